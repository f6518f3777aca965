"""Environment wrappers for torch: outputs are tensors on the wrapper's device.

Observations are flattened to ``(num_envs, occupied_obs_size)`` (NumPy Box data as float32, discrete data as
int32), rewards are ``(num_envs, 1)`` float32, terminated/truncated ``(num_envs, 1)`` bool.
"""

from skrl.common.env_wrapper_classes import build_wrapper_classes
from skrl.torch.array_ops import TORCH_ARRAY_OPS

Wrapper, MultiAgentEnvWrapper, GymnasiumWrapper, GymWrapper, wrap_env = build_wrapper_classes(
    lambda wrapper: TORCH_ARRAY_OPS, module=__name__, framework="torch"
)

__all__ = ["wrap_env", "Wrapper", "MultiAgentEnvWrapper"]
