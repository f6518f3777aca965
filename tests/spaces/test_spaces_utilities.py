"""skrl.utils.spaces.{torch,jax}: sizes, tensorize/untensorize, flatten/unflatten, sampling and gym conversion."""

import importlib

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

BOX = spaces.Box(-1, 1, (2, 3), dtype=np.float32)
DISCRETE = spaces.Discrete(5)
MULTI_DISCRETE = spaces.MultiDiscrete([3, 4])
DICT = spaces.Dict({"b": spaces.Discrete(4), "a": spaces.Box(-1, 1, (2,), dtype=np.float32)})
NESTED = spaces.Tuple([BOX, spaces.Dict({"x": DISCRETE, "y": spaces.Tuple([MULTI_DISCRETE, BOX])})])

# space, compute_space_size default, with occupied_size=True
SIZES = [
    (DISCRETE, 5, 1),
    (MULTI_DISCRETE, 7, 2),
    (BOX, 6, 6),
    (spaces.Dict({"a": spaces.Box(-1, 1, (2,)), "b": spaces.Discrete(4)}), 6, 3),
    (NESTED, 6 + 5 + 7 + 6, 6 + 1 + 2 + 6),
]
ALL_SPACES = [BOX, DISCRETE, MULTI_DISCRETE, DICT, NESTED]
SPACE_IDS = ["box", "discrete", "multidiscrete", "dict", "nested"]


def utilities(backend):
    return importlib.import_module(f"skrl.utils.spaces.{backend}")


def leaves(x):
    if isinstance(x, dict):
        return [leaf for k in sorted(x) for leaf in leaves(x[k])]
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in leaves(item)]
    return [x]


def expected_leaf_shapes(space, batch):
    if isinstance(space, spaces.Dict):
        return [s for k in sorted(space.keys()) for s in expected_leaf_shapes(space[k], batch)]
    if isinstance(space, spaces.Tuple):
        return [s for item in space for s in expected_leaf_shapes(item, batch)]
    return [(batch, 1) if isinstance(space, spaces.Discrete) else (batch, *space.shape)]


def native_type(backend):
    if backend == "torch":
        import torch

        return torch.Tensor
    import jax

    return jax.Array


@pytest.mark.parametrize("space, size, occupied", SIZES)
def test_compute_space_size(backend, space, size, occupied):
    u = utilities(backend)
    assert u.compute_space_size(space) == size
    assert u.compute_space_size(space, occupied_size=True) == occupied


@pytest.mark.parametrize("value, expected", [(None, 0), (7, 7), (2.5, 2.5), ((2, 3), 6), ([4], 4)])
def test_compute_space_size_of_plain_values(backend, value, expected):
    assert utilities(backend).compute_space_size(value) == expected


@pytest.mark.parametrize("space", ALL_SPACES, ids=SPACE_IDS)
def test_tensorize_flatten_unflatten_invariants(backend, space):
    u = utilities(backend)
    tensorized = u.tensorize_space(space, space.sample())
    shapes = [tuple(leaf.shape) for leaf in leaves(tensorized)]
    assert shapes == expected_leaf_shapes(space, 1)
    assert all(isinstance(leaf, native_type(backend)) for leaf in leaves(tensorized))
    again = u.tensorize_space(space, tensorized)
    assert [tuple(leaf.shape) for leaf in leaves(again)] == shapes

    flat = u.flatten_tensorized_space(tensorized)
    assert tuple(flat.shape) == (1, u.compute_space_size(space, occupied_size=True))
    unflat = u.unflatten_tensorized_space(space, flat)
    assert [tuple(leaf.shape) for leaf in leaves(unflat)] == shapes
    if isinstance(space, spaces.Tuple):
        assert isinstance(unflat, list)


@pytest.mark.parametrize("sample_backend", ["numpy", "native"])
@pytest.mark.parametrize("space", ALL_SPACES, ids=SPACE_IDS)
def test_sample_space_batches(backend, space, sample_backend):
    u = utilities(backend)
    sample = u.sample_space(space, batch_size=5, backend=sample_backend)
    assert [tuple(leaf.shape) for leaf in leaves(sample)] == expected_leaf_shapes(space, 5)
    expected_type = np.ndarray if sample_backend == "numpy" else native_type(backend)
    assert all(isinstance(leaf, expected_type) for leaf in leaves(sample))
    assert tuple(u.flatten_tensorized_space(u.tensorize_space(space, sample)).shape)[0] == 5


def test_sample_space_defaults_to_numpy(backend):
    sample = utilities(backend).sample_space(BOX)
    assert isinstance(sample, np.ndarray) and sample.shape == (1, 2, 3)
    assert utilities(backend).sample_space(None) is None


@pytest.mark.parametrize("space", ALL_SPACES, ids=SPACE_IDS)
def test_untensorize(backend, space):
    u = utilities(backend)
    tensorized = u.tensorize_space(space, space.sample())
    batched = u.untensorize_space(space, tensorized, squeeze_batch_dimension=False)
    assert all(isinstance(leaf, np.ndarray) and leaf.shape[0] == 1 for leaf in leaves(batched))
    squeezed = u.untensorize_space(space, tensorized)
    assert space.contains(squeezed if not isinstance(space, spaces.Tuple) else tuple(squeezed))


def test_untensorize_squeezed_leaf_types(backend):
    u = utilities(backend)
    assert type(u.untensorize_space(DISCRETE, u.tensorize_space(DISCRETE, 3))) is int
    assert u.untensorize_space(BOX, u.tensorize_space(BOX, BOX.sample())).shape == (2, 3)
    assert u.untensorize_space(MULTI_DISCRETE, u.tensorize_space(MULTI_DISCRETE, [1, 2])).shape == (2,)
    box = u.untensorize_space(BOX, u.tensorize_space(BOX, np.zeros((2, 2, 3))), squeeze_batch_dimension=True)
    assert box.shape == (2, 2, 3) and box.dtype == np.float32


def test_tensorize_dtypes_torch():
    import torch

    u = utilities("torch")
    assert u.tensorize_space(BOX, np.zeros((2, 3), dtype=np.float64)).dtype == torch.float32
    assert u.tensorize_space(DISCRETE, np.int64(2)).dtype == torch.int32
    assert u.tensorize_space(MULTI_DISCRETE, np.array([1, 2])).dtype == torch.int32


@pytest.mark.parametrize("use_jax", [True, False])
def test_tensorize_keeps_numpy_dtype_jax(use_jax):
    import jax

    u = utilities("jax")
    box = u.tensorize_space(BOX, np.zeros((2, 3), dtype=np.float16), _jax=use_jax)
    assert box.dtype == np.float16 and isinstance(box, jax.Array if use_jax else np.ndarray)
    flat = u.flatten_tensorized_space(u.tensorize_space(DICT, DICT.sample(), _jax=use_jax), _jax=use_jax)
    assert isinstance(flat, jax.Array if use_jax else np.ndarray)


def test_flatten_orders_dict_keys_and_keeps_discrete_index(backend):
    u = utilities(backend)
    space = spaces.Dict({"z": spaces.Discrete(4), "a": spaces.Box(-10, 10, (2,), dtype=np.float32)})
    x = {"z": 3, "a": np.array([5.0, 6.0], dtype=np.float32)}
    flat = u.flatten_tensorized_space(u.tensorize_space(space, x))
    assert np.asarray(flat).tolist() == [[5.0, 6.0, 3.0]]


def test_flatten_1d_leaf_is_one_sample(backend):
    u = utilities(backend)
    x = u.tensorize_space(spaces.Box(-1, 1, (4,)), np.zeros(4, dtype=np.float32)).reshape(-1)
    assert tuple(u.flatten_tensorized_space(x).shape) == (1, 4)


def test_none_passes_through(backend):
    u = utilities(backend)
    assert u.tensorize_space(None, 1) is None and u.tensorize_space(BOX, None) is None
    assert u.untensorize_space(None, 1) is None
    assert u.flatten_tensorized_space(None) is None
    assert u.unflatten_tensorized_space(BOX, None) is None
    assert u.convert_gym_space(None) is None


def test_errors(backend):
    u = utilities(backend)
    with pytest.raises(ValueError, match=r"Unsupported type \(<class 'str'>\) for the given space"):
        u.tensorize_space(BOX, "abc")
    with pytest.raises(ValueError, match=r"Unsupported space \(MultiBinary"):
        u.tensorize_space(spaces.MultiBinary(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"Unsupported space \(3\)"):
        u.unflatten_tensorized_space(3, np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"Unsupported sample/value type \(<class 'str'>\)"):
        u.flatten_tensorized_space("abc")
    with pytest.raises(ValueError, match=r"Unsupported backend type \(torch\): expected one of 'numpy', 'native'"):
        u.sample_space(BOX, backend="torch")
    with pytest.raises(ValueError, match=r"Unsupported type \(<class 'list'>\)"):
        u.untensorize_space(BOX, [1.0])


def _fake_gym_space(kind, module, **attributes):
    """An object that looks like an OpenAI gym space (gym itself need not be installed)."""
    return type(kind, (), {"__module__": f"gym.spaces.{module}", **attributes})()


def test_convert_gym_space_from_gym_classes(backend):
    u = utilities(backend)
    box = _fake_gym_space("Box", "box", low=np.zeros((4, 2), np.float32), high=np.ones((4, 2), np.float32), shape=(4, 2), dtype=np.float32)
    discrete = _fake_gym_space("Discrete", "discrete", n=3, start=1)
    multi = _fake_gym_space("MultiDiscrete", "multi_discrete", nvec=np.array([2, 5]))
    composite = _fake_gym_space("Dict", "dict", spaces={"box": box, "t": _fake_gym_space("Tuple", "tuple", spaces=(discrete, multi))})

    converted = u.convert_gym_space(composite)
    assert isinstance(converted, spaces.Dict) and list(converted.keys()) == ["box", "t"]
    assert converted["box"] == spaces.Box(0, 1, (4, 2), dtype=np.float32)
    assert converted["t"][0] == spaces.Discrete(3, start=1)
    assert converted["t"][1] == spaces.MultiDiscrete([2, 5])
    assert u.convert_gym_space(box, squeeze_batch_dimension=True) == spaces.Box(0, 1, (2,), dtype=np.float32)


def test_convert_gym_space_accepts_gymnasium_and_rejects_others(backend):
    u = utilities(backend)
    assert u.convert_gym_space(NESTED) == NESTED
    with pytest.raises(ValueError, match=r"Unsupported space \(MultiBinary"):
        u.convert_gym_space(gymnasium.spaces.MultiBinary(2))
