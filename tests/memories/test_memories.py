"""skrl.memories.{torch,jax}: tensor creation, the add_samples ring, sampling and mini-batches, access."""

import importlib

import gymnasium
import numpy as np
import pytest

from skrl import config
from skrl.common.memory_core import (
    parse_export_format,
    plan_samples_write,
    random_indexes,
    sequence_indexes,
    split_bounds,
)

FLAVOURS = [("torch", "numpy"), ("jax", "numpy"), ("jax", "jax")]  # backend, JAX array backend


@pytest.fixture(params=FLAVOURS, ids=["torch", "jax-numpy", "jax-jax"])
def flavour(request, monkeypatch):
    """``(backend, JAX array backend)``, with ``config.jax.backend`` set for the test (restored afterwards)."""
    monkeypatch.setattr(config.jax, "backend", request.param[1])
    return request.param


# reference shape, memory_size, num_envs, memory_index, env_index -> writes, memory_index, env_index, wrapped
PLANS = [
    ((2, 3), 5, 2, 0, 0, [((0,), None)], 1, 0, False),
    ((2, 3), 5, 2, 4, 0, [((4,), None)], 0, 0, True),
    ((1, 3), 5, 2, 0, 0, [((0, slice(0, 1)), None)], 0, 1, False),
    ((1, 3), 5, 2, 0, 1, [((0, slice(1, 2)), None)], 1, 0, False),
    ((3,), 5, 2, 0, 1, [((0, 1), None)], 1, 0, False),
    ((3,), 5, 2, 4, 1, [((4, 1), None)], 0, 0, True),
    ((2, 3), 5, 1, 0, 0, [((slice(0, 2), 0), slice(0, 2))], 2, 0, False),
    ((4, 3), 5, 1, 3, 0, [((slice(3, 5), 0), slice(0, 2)), ((slice(0, 2), 0), slice(2, 4))], 2, 0, True),
    ((7, 3), 5, 1, 1, 0, [((slice(3, 5), 0), slice(2, 4)), ((slice(0, 3), 0), slice(4, 7))], 3, 0, True),
]


@pytest.mark.parametrize("shape, size, envs, memory_index, env_index, writes, next_memory, next_env, wrapped", PLANS)
def test_plan_samples_write(shape, size, envs, memory_index, env_index, writes, next_memory, next_env, wrapped):
    plan = plan_samples_write(shape, size, envs, memory_index, env_index)
    assert list(plan.writes) == writes
    assert (plan.memory_index, plan.env_index, plan.wrapped) == (next_memory, next_env, wrapped)


@pytest.mark.parametrize("shape, envs, env_index, message", [
    ((), 2, 0, r"Expected shape \(number of environments = 2, data size\), got \(\)"),
    ((3, 4), 2, 0, r"Expected shape \(number of environments = 2, data size\), got \(3, 4\)"),
    ((2, 4), 3, 2, r"Cannot add samples of 2 environments at environment index 2: the memory has 3 environments"),
])
def test_plan_samples_write_errors(shape, envs, env_index, message):
    with pytest.raises(ValueError, match=message):
        plan_samples_write(shape, 5, envs, 0, env_index)


@pytest.mark.parametrize("total, parts, bounds", [
    (10, 1, [(0, 10)]),
    (10, 3, [(0, 4), (4, 7), (7, 10)]),
    (6, 6, [(i, i + 1) for i in range(6)]),
])
def test_split_bounds_match_array_split(total, parts, bounds):
    assert split_bounds(total, parts) == bounds
    assert [len(a) for a in np.array_split(np.arange(total), parts)] == [b - a for a, b in bounds]


@pytest.mark.parametrize("parts, message", [
    (7, r"cannot split 6 samples into 7 non-empty mini-batches"),
    (0, r"Invalid `mini_batches`: expected a positive int. Received: mini_batches=0"),
])
def test_split_bounds_errors(parts, message):
    with pytest.raises(ValueError, match=message):
        split_bounds(6, parts)


def test_sequence_indexes_are_env_major():
    assert sequence_indexes(3, 2).tolist() == [0, 2, 4, 1, 3, 5]


@pytest.mark.parametrize("given, stored", [("pt", "pt"), ("npz", "npz"), ("np", "npz"), ("csv", "csv")])
def test_export_formats(given, stored):
    assert parse_export_format(given) == stored


def test_random_indexes():
    np.random.seed(0)
    assert sorted(random_indexes(6, 10, num_envs=2, replacement=False).tolist()) == list(range(6))
    sequences = random_indexes(10, 4, num_envs=2, sequence_length=3).reshape(4, 3)
    assert (np.diff(sequences, axis=1) == 2).all() and sequences.max() < 10
    with pytest.raises(ValueError, match="Cannot sample: the memory holds 3 samples, too few for sequences of 2 steps"):
        random_indexes(3, 4, num_envs=4, sequence_length=2)


def memories(flavour):
    return importlib.import_module(f"skrl.memories.{flavour[0]}")


def array(flavour, values, dtype=np.float32):
    """``values`` as the arrays an agent of this flavour records."""
    values = np.asarray(values, dtype=dtype)
    if flavour[0] == "torch":
        import torch

        return torch.as_tensor(values)
    if flavour[1] == "jax":
        import jax.numpy as jnp

        return jnp.asarray(values)
    return values


def numpy(x):
    return x.cpu().numpy() if hasattr(x, "cpu") else np.asarray(x)


def storage_type(flavour):
    if flavour[0] == "torch":
        import torch

        return torch.Tensor
    if flavour[1] == "jax":
        import jax

        return jax.Array
    return np.ndarray


def dtype_name(x):
    return str(x.dtype).replace("torch.", "")


def bool_dtype(flavour):
    if flavour[0] == "torch":
        import torch

        return torch.bool
    return np.bool_


def test_construction(flavour):
    memory = memories(flavour).RandomMemory(memory_size=4, num_envs=3, export_format="np", replacement=False)
    assert (memory.memory_size, memory.num_envs, memory.filled, memory.memory_index, memory.env_index) == (4, 3, False, 0, 0)
    assert memory.export is False and memory.export_format == "npz" and memory.export_directory == ""
    assert memory.sampling_indexes is None and memory._replacement is False
    assert memory.all_sequence_indexes.tolist() == sequence_indexes(4, 3).tolist()


def test_export_is_recorded_and_wrapping_still_works(flavour, tmp_path):
    memory = memories(flavour).Memory(2, export=True, export_format="csv", export_directory=str(tmp_path))
    memory.create_tensor("x", 1)
    for _ in range(3):
        memory.add_samples(x=array(flavour, [[1.0]]))
    assert memory.filled and (memory.export, memory.export_format, memory.export_directory) == (True, "csv", str(tmp_path))


@pytest.mark.parametrize("kwargs, message", [
    ({"memory_size": 4, "export_format": "json"},
     r"Invalid export_format: expected one of 'pt', 'npz', 'np', 'csv'. Received: 'json'"),
    ({"memory_size": 0}, r"Invalid `memory_size`: expected a positive int. Received: memory_size=0"),
    ({"memory_size": 4, "num_envs": 2.5}, r"Invalid `num_envs`: expected a positive int. Received: num_envs=2.5"),
])
def test_construction_errors(flavour, kwargs, message):
    with pytest.raises(ValueError, match=message):
        memories(flavour).Memory(**kwargs)


@pytest.mark.parametrize("size, keep_dimensions, shape", [
    (3, False, (5, 2, 3)),
    ((2, 3), False, (5, 2, 6)),
    (gymnasium.spaces.Dict({"a": gymnasium.spaces.Box(-1, 1, (2,)), "b": gymnasium.spaces.Discrete(4)}), False, (5, 2, 3)),
    ((2, 3), True, (5, 2, 2, 3)),
    (gymnasium.spaces.Box(-1, 1, (4, 4)), True, (5, 2, 4, 4)),
])
def test_create_tensor_shapes(flavour, size, keep_dimensions, shape):
    memory = memories(flavour).Memory(5, num_envs=2)
    assert memory.create_tensor("x", size, keep_dimensions=keep_dimensions) is True
    tensor = memory.get_tensor_by_name("x")
    assert isinstance(tensor, storage_type(flavour)) and tuple(tensor.shape) == shape
    assert dtype_name(tensor) == "float32" and np.isnan(numpy(tensor)).all()
    assert tuple(memory.tensors_view["x"].shape) == (10, *shape[2:])
    assert memory.create_tensor("x", size, keep_dimensions=keep_dimensions) is False


def test_create_tensor_errors(flavour):
    memory = memories(flavour).Memory(5)
    memory.create_tensor("x", 3)
    with pytest.raises(ValueError, match=r"Size of tensor x \(4\) doesn't match the existing one \(3\)"):
        memory.create_tensor("x", 4)
    with pytest.raises(ValueError, match=r"Dtype of tensor x \(.*bool.*\) doesn't match the existing one \(.*float32\)"):
        memory.create_tensor("x", 3, dtype=bool_dtype(flavour))
    memory.create_tensor("image", (2, 2), keep_dimensions=True)
    with pytest.raises(ValueError, match=r"Size of tensor image \(\(2, 3\)\) doesn't match the existing one \(\(2, 2\)\)"):
        memory.create_tensor("image", (2, 3), keep_dimensions=True)


def test_create_tensor_fills_only_the_new_float_tensor(flavour):
    memory = memories(flavour).Memory(2)
    memory.create_tensor("a", 1)
    memory.create_tensor("flag", 1, dtype=bool_dtype(flavour))
    memory.add_samples(a=array(flavour, [[1.0]]), flag=array(flavour, [[True]], dtype=bool))
    memory.create_tensor("b", 1)
    assert numpy(memory.get_tensor_by_name("a")).ravel()[0] == 1.0
    assert numpy(memory.get_tensor_by_name("flag")).ravel().tolist() == [True, False]
    assert np.isnan(numpy(memory.get_tensor_by_name("b"))).all()
    assert memory._tensor_b is memory.tensors["b"]


def filled_memory(flavour, memory_size=5, num_envs=2, **kwargs):
    """A ``RandomMemory`` whose ``ids`` of step s, env e is ``10 * s + e``."""
    memory = memories(flavour).RandomMemory(memory_size, num_envs=num_envs, **kwargs)
    memory.create_tensor("ids", 1)
    memory.create_tensor("states", 2)
    for step in range(memory_size):
        ids = [[10.0 * step + env] for env in range(num_envs)]
        memory.add_samples(states=array(flavour, np.repeat(ids, 2, axis=1)), ids=array(flavour, ids))
    return memory


def test_add_samples_one_step_of_all_envs(flavour):
    memory = filled_memory(flavour, memory_size=3, num_envs=2)
    assert memory.filled and memory.memory_index == 0 and len(memory) == 6
    assert numpy(memory.get_tensor_by_name("ids", keepdim=False)).ravel().tolist() == [0, 1, 10, 11, 20, 21]
    memory.add_samples(ids=array(flavour, [[30.0], [31.0]]), unknown=array(flavour, [[0.0]]))
    assert numpy(memory.get_tensor_by_name("ids")).ravel().tolist() == [30, 31, 10, 11, 20, 21]
    assert memory.memory_index == 1 and len(memory) == 6


def test_add_samples_some_envs_and_single_samples(flavour):
    memory = memories(flavour).Memory(2, num_envs=3)
    memory.create_tensor("x", 1)
    memory.add_samples(x=array(flavour, [[1.0], [2.0]]))
    assert (memory.memory_index, memory.env_index, len(memory)) == (0, 2, 2)
    memory.add_samples(x=array(flavour, [3.0]))
    assert (memory.memory_index, memory.env_index, len(memory)) == (1, 0, 3)
    assert numpy(memory.get_tensor_by_name("x"))[0].ravel().tolist() == [1, 2, 3]


def test_add_samples_many_steps_of_one_env_wrap(flavour):
    memory = memories(flavour).Memory(4)
    memory.create_tensor("x", 1)
    memory.add_samples(x=array(flavour, [[0.0], [1.0], [2.0]]))
    assert (memory.memory_index, memory.filled, len(memory)) == (3, False, 3)
    memory.add_samples(x=array(flavour, [[3.0], [4.0], [5.0]]))
    assert (memory.memory_index, memory.filled, len(memory)) == (2, True, 4)
    assert numpy(memory.get_tensor_by_name("x")).ravel().tolist() == [4, 5, 2, 3]


def test_add_samples_errors(flavour):
    memory = memories(flavour).Memory(4, num_envs=2)
    memory.create_tensor("x", 1)
    with pytest.raises(ValueError, match=r"No samples to be recorded in memory. Pass samples as key-value arguments"):
        memory.add_samples()
    with pytest.raises(ValueError, match=r"Expected shape \(number of environments = 2, data size\), got \(3, 1\)"):
        memory.add_samples(x=array(flavour, np.zeros((3, 1))))


def test_random_sample(flavour):
    memory = filled_memory(flavour)
    batches = memory.sample(["ids", "states"], batch_size=6, mini_batches=2)
    assert len(batches) == 2 and all(len(batch) == 2 for batch in batches)
    assert [tuple(b[0].shape) for b in batches] == [(3, 1), (3, 1)]
    indexes = numpy(memory.get_sampling_indexes())
    ids = np.concatenate([numpy(b[0]) for b in batches]).ravel()
    expected = numpy(memory.get_tensor_by_name("ids", keepdim=False)).ravel()[indexes]
    assert ids.tolist() == expected.tolist()
    assert (numpy(batches[0][1])[:, 0] == numpy(batches[0][0])[:, 0]).all()


def test_random_sample_sequences_follow_one_env(flavour):
    memory = filled_memory(flavour)
    (ids,) = memory.sample(["ids"], batch_size=4, sequence_length=3)[0]
    sequences = numpy(ids).reshape(4, 3)
    assert (np.diff(sequences, axis=1) == 10).all()
    assert tuple(numpy(memory.sampling_indexes).shape) == (12,)


def test_random_sample_without_replacement_is_unique(flavour):
    memory = filled_memory(flavour, replacement=False)
    (ids,) = memory.sample(["ids"], batch_size=10)[0]
    assert sorted(numpy(ids).ravel().tolist()) == sorted(numpy(memory.get_tensor_by_name("ids")).ravel().tolist())


def test_sample_from_empty_memory_raises(flavour):
    memory = memories(flavour).RandomMemory(4)
    memory.create_tensor("x", 1)
    with pytest.raises(ValueError, match="Cannot sample: the memory holds 0 samples"):
        memory.sample(["x"], batch_size=2)
    with pytest.raises(NotImplementedError, match=r"The sampling method \(.sample\(\)\) is not implemented"):
        memories(flavour).Memory(4).sample(["x"], batch_size=2)


def test_sample_all_keeps_every_row(flavour):
    memory = filled_memory(flavour)
    (ids, states), = memory.sample_all(["ids", "states"])
    assert tuple(ids.shape) == (10, 1) and tuple(states.shape) == (10, 2)
    batches = memory.sample_all(["ids"], mini_batches=3)
    assert [tuple(b[0].shape) for b in batches] == [(4, 1), (3, 1), (3, 1)]
    assert np.concatenate([numpy(b[0]) for b in batches]).ravel().tolist() == numpy(ids).ravel().tolist()
    (ordered,), = memory.sample_all(["ids"], sequence_length=2)
    assert numpy(ordered).ravel().tolist() == [0, 10, 20, 30, 40, 1, 11, 21, 31, 41]
    with pytest.raises(ValueError, match="cannot split 10 samples into 11 non-empty mini-batches"):
        memory.sample_all(["ids"], mini_batches=11)


def test_sample_by_index(flavour):
    memory = filled_memory(flavour)
    batches = memory.sample_by_index(["ids"], np.array([9, 0, 3]), mini_batches=2)
    assert [numpy(b[0]).ravel().tolist() for b in batches] == [[41, 0], [11]]


def test_tensor_access(flavour):
    memory = filled_memory(flavour)
    assert memory.get_tensor_names() == ["ids", "states"]
    assert tuple(memory.get_tensor_by_name("ids").shape) == (5, 2, 1)
    assert tuple(memory.get_tensor_by_name("ids", keepdim=False).shape) == (10, 1)
    with pytest.raises(KeyError, match=r"Unknown tensor name 'nope': expected one of \['ids', 'states'\]"):
        memory.get_tensor_by_name("nope")
    with pytest.raises(KeyError, match="Unknown tensor name 'nope'"):
        memory.set_tensor_by_name("nope", array(flavour, [0.0]))
    memory.set_tensor_by_name("ids", array(flavour, np.arange(10).reshape(5, 2, 1), dtype=np.int64))
    ids = memory.get_tensor_by_name("ids")
    assert dtype_name(ids) == "float32" and numpy(ids).ravel().tolist() == list(range(10))


def test_reset_keeps_data(flavour):
    memory = filled_memory(flavour)
    memory.reset()
    assert (memory.filled, memory.memory_index, memory.env_index, len(memory)) == (False, 0, 0, 0)
    assert numpy(memory.get_tensor_by_name("ids")).ravel()[-1] == 41
    memory.share_memory()
