"""What exact resume needs besides the modules: timestep, algorithm counters, RNG states, episode statistics,
pending tracking values and the best-model record, as host values in a checkpoint's ``agent_state`` entry."""

from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np

from skrl._logging import logger

#: checkpoint entry holding what exact resume needs besides the modules (counters, timestep, RNG, statistics).
#: skrl 1.4.3 loaders skip it with a warning; our loaders restore it.
AGENT_STATE_KEY = "agent_state"
AGENT_STATE_FORMAT = 1


class AgentResumeMixin:
    """``_agent_state`` / ``_restore_agent_state`` of ``AgentCore`` (which supplies every attribute used here)."""

    def _agent_state(self, timestep: Optional[int]) -> dict[str, Any]:
        """Host (NumPy / Python) values that exact resume needs, besides the modules."""
        from skrl import __version__
        from skrl.common.rng_state import capture_python_rngs

        self._fold_pending_steps()
        stats = self._fetch_tree(self._episode_stats) if self._episode_stats is not None else {}
        tracking = {str(i): {"tag": tag, "values": np.asarray([float(np.asarray(v).mean()) for v in self._fetch_many(values)])}
                    for i, (tag, values) in enumerate((t, v) for t, v in self.tracking_data.items() if v)}
        return {
            "format": AGENT_STATE_FORMAT, "skrl_version": __version__, "agent": type(self).__name__,
            "timestep": -1 if timestep is None else int(timestep),
            "algorithm": self._algorithm_state(),
            "rng": {**capture_python_rngs(), **self._backend_rng_state()},
            "episode_stats": stats, "tracking": tracking,
            "best": {"timestep": int(self._best.timestep), "reward": float(self._best.reward)},
        }

    def _restore_agent_state(self, state: Mapping[str, Any]) -> None:
        from skrl.common.rng_state import restore_python_rngs

        if int(state.get("format", 0)) > AGENT_STATE_FORMAT:
            logger.warning(f"The checkpoint's agent state has format {state.get('format')}, newer than this skrl "
                           f"reads ({AGENT_STATE_FORMAT}); counters and RNG states are not restored")
            return
        timestep = int(state.get("timestep", -1))
        self.resume_timestep = max(timestep, 0)
        self._last_checkpoint = timestep if timestep >= 0 else None
        self._restore_algorithm_state(state.get("algorithm", {}))
        restore_python_rngs(state.get("rng", {}))
        self._restore_backend_rng_state(state.get("rng", {}))
        stats = state.get("episode_stats") or {}
        self._pending_steps = self._new_pending_steps()
        self._episode_stats = self._stats_from_host(stats) if stats else None
        self.tracking_data.clear()
        for entry in (state.get("tracking") or {}).values():  # tags hold "/", so they are values, not keys
            for value in np.asarray(entry["values"]).reshape(-1):
                self.tracking_data.record(str(entry["tag"]), float(value))
        best = state.get("best") or {}
        self._best.timestep, self._best.reward = int(best.get("timestep", 0)), float(best.get("reward", float("-inf")))

    def _algorithm_state(self) -> dict[str, Any]:
        """Algorithm counters (e.g. PPO's rollout counter and learning rate); algorithms override."""
        return {}

    def _restore_algorithm_state(self, state: Mapping[str, Any]) -> None:
        """Inverse of ``_algorithm_state``."""
