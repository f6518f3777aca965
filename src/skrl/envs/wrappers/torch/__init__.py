"""Environment wrappers for torch: outputs are tensors on the wrapper's device.

Observations are flattened to ``(num_envs, occupied_obs_size)`` (NumPy Box data as float32, discrete data as
int32), rewards are ``(num_envs, 1)`` float32, terminated/truncated ``(num_envs, 1)`` bool.
"""

from skrl.common.env_wrapper_classes import build_wrapper_classes
from skrl.torch.array_ops import TORCH_ARRAY_OPS

_classes = build_wrapper_classes(lambda wrapper: TORCH_ARRAY_OPS, module=__name__, framework="torch")

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
