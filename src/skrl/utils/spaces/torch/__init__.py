"""Spaces utilities for torch: convert gymnasium samples to and from (flattened) tensors.

NumPy leaves become tensors on ``device``: Box data as float32, discrete data as int32.
"""

from skrl.common.spaces import SpaceFunctions, compute_space_size, convert_gym_space, unflatten_tensorized_space
from skrl.torch.array_ops import TORCH_ARRAY_OPS

_functions = SpaceFunctions(TORCH_ARRAY_OPS)

tensorize_space = _functions.tensorize_space
untensorize_space = _functions.untensorize_space
flatten_tensorized_space = _functions.flatten_tensorized_space
sample_space = _functions.sample_space

__all__ = [
    "compute_space_size", "convert_gym_space", "flatten_tensorized_space", "sample_space", "tensorize_space",
    "unflatten_tensorized_space", "untensorize_space",
]
