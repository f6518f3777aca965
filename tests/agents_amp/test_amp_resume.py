"""Exact resume for AMP on both backends: with ``checkpoint_memory`` the checkpoint also holds the motion dataset
and the reply buffer, so N steps, checkpoint, then a fresh agent that loads it and trains N more ends bit-identical
to 2N steps in one go (reference motions drawn from NumPy's global generator, which checkpoints restore)."""

import numpy as np
from amp_cases import AMP_SIZE, AMPInfos, make_amp
from builders import module, trainer
from resume_worker import ClockEnv

from skrl.utils import set_seed

HALF = 8


class ClockAMPEnv(ClockEnv):
    """``ClockEnv`` (data from a global step counter) whose infos carry AMP observations: action, observation."""

    def step(self, action):
        observation = self._obs()
        next_observation, reward, terminated, truncated, _ = super().step(action)
        amp = np.zeros(AMP_SIZE, np.float32)
        amp[:2], amp[2:6] = np.clip(action, -1, 1), observation
        return next_observation, reward, terminated, truncated, {"amp_obs": amp, "terminate": terminated}


def _motions(backend):
    def collect(n):
        motions = np.random.uniform(-1, 1, (n, AMP_SIZE)).astype(np.float32)
        if backend == "torch":
            import torch

            return torch.as_tensor(motions)
        return motions

    return collect


def _flat(agent):
    import jax

    out = {}
    for name, state in agent._module_states().items():
        for path, leaf in jax.tree_util.tree_leaves_with_path(state, is_leaf=lambda x: hasattr(x, "detach")):
            out[f"{name}{jax.tree_util.keystr(path)}"] = np.asarray(leaf.detach() if hasattr(leaf, "detach") else leaf)
    for name in ("motion_dataset", "reply_buffer"):
        out[name] = np.asarray(getattr(agent, name).get_tensor_by_name("states"))
    return out


def _run(backend, directory, timesteps, checkpoint=None):
    set_seed(11)
    env = AMPInfos(module("envs.wrappers", backend).wrap_env(ClockAMPEnv(HALF if checkpoint else 0),
                                                             wrapper="gymnasium", verbose=False), backend)
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    cfg = {"rollouts": 4, "learning_epochs": 2, "mini_batches": 2, "amp_batch_size": 8, "learning_rate": 1e-3,
           "amp_state_preprocessor": scaler, "amp_state_preprocessor_kwargs": {"size": AMP_SIZE},
           "experiment": {"directory": directory, "experiment_name": "run", "write_interval": 4,
                          "checkpoint_interval": HALF, "checkpoint_memory": True}}
    agent = make_amp(backend, env, cfg, motion_size=20, reply_size=12)
    agent.collect_reference_motions = _motions(backend)
    run = trainer(backend, env, agent, timesteps)
    if checkpoint:
        agent.load(checkpoint)
    run.train()
    return _flat(agent)


def test_amp_resume_is_exact(backend, tmp_path):
    whole = _run(backend, str(tmp_path / "whole"), 2 * HALF)
    _run(backend, str(tmp_path / "first"), HALF)
    ext = ".pt" if backend == "torch" else ""
    resumed = _run(backend, str(tmp_path / "second"), 2 * HALF,
                   str(tmp_path / "first" / "run" / "checkpoints" / f"agent_{HALF}{ext}"))
    assert set(resumed) == set(whole)
    for key, value in whole.items():
        np.testing.assert_array_equal(resumed[key], value, err_msg=key)
