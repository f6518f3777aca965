"""Environment wrappers for JAX: outputs are NumPy arrays or ``jax.Array`` per ``config.jax.backend``.

The array backend is read once, when the wrapper is built (``wrapper._jax`` is True for "jax"). Observations
are flattened to ``(num_envs, occupied_obs_size)`` (NumPy dtypes kept), rewards are ``(num_envs, 1)`` float32
and terminated/truncated ``(num_envs, 1)`` **bool**, as on torch (skrl 1.4.3 used int8 here).
"""

from typing import Any

from skrl.common.env_wrapper_classes import build_wrapper_classes
from skrl.jax.array_ops import JaxArrayOps, array_ops_for_backend


def _create_array_ops(wrapper: Any) -> JaxArrayOps:
    ops = array_ops_for_backend()
    wrapper._jax = ops.use_jax
    return ops


_classes = build_wrapper_classes(_create_array_ops, module=__name__, framework="jax")

wrap_env = _classes.wrap_env
Wrapper = _classes.Wrapper
MultiAgentEnvWrapper = _classes.MultiAgentEnvWrapper
GymnasiumWrapper = _classes.GymnasiumWrapper
GymWrapper = _classes.GymWrapper
BraxWrapper = _classes.BraxWrapper
GymnaxWrapper = _classes.GymnaxWrapper
DeepMindWrapper = _classes.DeepMindWrapper
PettingZooWrapper = _classes.PettingZooWrapper
IsaacLabWrapper = _classes.IsaacLabWrapper
IsaacLabMultiAgentWrapper = _classes.IsaacLabMultiAgentWrapper
IsaacGymPreview2Wrapper = _classes.IsaacGymPreview2Wrapper
IsaacGymPreview3Wrapper = _classes.IsaacGymPreview3Wrapper
OmniverseIsaacGymWrapper = _classes.OmniverseIsaacGymWrapper

__all__ = ["wrap_env", "Wrapper", "MultiAgentEnvWrapper"]
