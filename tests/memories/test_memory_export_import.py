"""Memory export and import: exact round trips over format x backend x dtype x shape, errors, export cycles, scale."""

import contextlib
import glob
import importlib
import os
import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skrl import config
from skrl.common import memory_csv
from skrl.common.memory_files import MemoryFileError, MemoryMismatchError, memory_file_name
from skrl.utils._memory_files import MemoryFileIterator

FORMATS = ("pt", "npz", "csv")
FLAVOURS = ("torch", "jax-numpy", "jax-jax")  # backend, with the JAX array backend where it applies


def _x64() -> bool:
    import jax

    return bool(jax.config.jax_enable_x64)


def supported_dtypes(flavour: str) -> list:
    """The dtypes a memory of ``flavour`` stores exactly (jax arrays hold 64-bit types only with x64 enabled)."""
    narrow = [np.float16, np.float32, np.int8, np.int32, np.bool_]
    return narrow + [np.float64, np.int64] if flavour != "jax-jax" or _x64() else narrow


@contextlib.contextmanager
def jax_array_backend(flavour: str):
    previous = config.jax.backend
    config.jax.backend = "jax" if flavour == "jax-jax" else "numpy"
    try:
        yield
    finally:
        config.jax.backend = previous


def new_memory(flavour: str, memory_size: int, num_envs: int = 1, **kwargs):
    package = importlib.import_module(f"skrl.memories.{flavour.split('-')[0]}")
    with jax_array_backend(flavour):
        return package.RandomMemory(memory_size=memory_size, num_envs=num_envs, **kwargs)


def native_dtype(flavour: str, dtype):
    if flavour == "torch":
        from skrl.torch.array_ops import TORCH_ARRAY_OPS

        return TORCH_ARRAY_OPS.native_dtype(dtype)
    return np.dtype(dtype)


def as_native(flavour: str, array: np.ndarray):
    if flavour == "torch":
        import torch

        return torch.from_numpy(array)
    return array


def to_numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def assert_same(saved: np.ndarray, loaded: np.ndarray) -> None:
    """Equal values, shape and dtype; NaN equals NaN (of any sign) and the sign of zero counts."""
    assert loaded.dtype == saved.dtype and loaded.shape == saved.shape
    assert np.array_equal(saved, loaded, equal_nan=saved.dtype.kind == "f")
    if saved.dtype.kind == "f":
        numbers = ~np.isnan(saved)
        assert (np.signbit(saved[numbers]) == np.signbit(loaded[numbers])).all()


def fill(memory, flavour: str, data: dict, keep: dict, cursor: tuple) -> None:
    for name, array in data.items():
        size = array.shape[2:] if keep[name] else array.shape[2]
        memory.create_tensor(name, size, dtype=native_dtype(flavour, array.dtype), keep_dimensions=keep[name])
        memory.set_tensor_by_name(name, as_native(flavour, array))
    memory.filled, memory.memory_index, memory.env_index = cursor


@st.composite
def memory_contents(draw, dtypes: list):
    """``(memory_size, num_envs, {name: storage array}, {name: keep_dimensions}, (filled, memory_index, env_index))``."""
    memory_size, num_envs = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    names = draw(st.lists(st.sampled_from(["states", "actions", "rewards", "terminated", "image"]), min_size=1,
                          max_size=3, unique=True))
    data, keep = {}, {}
    for name in names:
        dtype = np.dtype(draw(st.sampled_from(dtypes)))
        keep[name] = draw(st.booleans())
        shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)) if keep[name] else (draw(st.integers(1, 4)),)
        data[name] = draw(hnp.arrays(dtype, (memory_size, num_envs, *shape), elements=hnp.from_dtype(dtype)))
    cursor = (draw(st.booleans()), draw(st.integers(0, memory_size - 1)), draw(st.integers(0, num_envs - 1)))
    return memory_size, num_envs, data, keep, cursor


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("writer", FLAVOURS)
@pytest.mark.parametrize("reader", FLAVOURS)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_export_then_import_is_exact(tmp_path, writer, reader, file_format, data):
    dtypes = [d for d in supported_dtypes(writer) if d in supported_dtypes(reader)]
    memory_size, num_envs, arrays, keep, cursor = data.draw(memory_contents(dtypes))
    memory = new_memory(writer, memory_size, num_envs)
    fill(memory, writer, arrays, keep, cursor)
    path = memory.save(str(tmp_path), file_format)

    fresh = new_memory(reader, memory_size, num_envs)
    fresh.load(path)
    assert fresh.get_tensor_names() == sorted(arrays)
    assert (fresh.filled, fresh.memory_index, fresh.env_index) == cursor
    for name, array in arrays.items():
        assert_same(array, to_numpy(fresh.get_tensor_by_name(name)))
        assert fresh.tensors_keep_dimensions[name] == (keep[name] or array.ndim != 3)
    if len(fresh):
        name = sorted(arrays)[0]
        batch = fresh.sample([name], batch_size=4)[0][0]
        indexes = to_numpy(fresh.get_sampling_indexes())
        assert (indexes < len(fresh)).all()
        assert_same(arrays[name].reshape(-1, *arrays[name].shape[2:])[indexes], to_numpy(batch))


@pytest.mark.parametrize("file_format", FORMATS)
def test_csv_booleans_and_integers_round_trip(tmp_path, file_format):
    memory = new_memory("jax-numpy", 3, num_envs=2)
    flags = np.array([True, False, False, True, False, True]).reshape(3, 2, 1)
    big = np.array([np.iinfo(np.int64).min, -1, 0, 1, 2**53 + 1, np.iinfo(np.int64).max]).reshape(3, 2, 1)
    fill(memory, "jax-numpy", {"flags": flags, "big": big}, {"flags": False, "big": False}, (True, 0, 0))
    path = memory.save(str(tmp_path), file_format)
    if file_format == "csv":
        rows = open(path).read().splitlines()[2:]
        assert rows[:2] == ["-9223372036854775808,True", "-1,False"]
    fresh = new_memory("torch", 3, num_envs=2)
    fresh.load(path)
    assert_same(flags, to_numpy(fresh.tensors["flags"]))
    assert_same(big, to_numpy(fresh.tensors["big"]))


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("file_format", FORMATS)
def test_one_export_per_fill_cycle_before_overwrite(tmp_path, flavour, file_format):
    memory = new_memory(flavour, 3, num_envs=2, export=True, export_format=file_format,
                        export_directory=str(tmp_path))
    memory.create_tensor("step", 1)
    for step in range(10):  # three complete cycles, then one more step
        memory.add_samples(step=np.full((2, 1), step, dtype=np.float32))
    paths = sorted(glob.glob(str(tmp_path / "memories" / f"*.{file_format}")))
    assert len(paths) == 3 and len({os.path.basename(p) for p in paths}) == 3
    for cycle, path in enumerate(paths):  # sorted by name = in time order
        fresh = new_memory(flavour, 3, num_envs=2)
        fresh.load(path)
        expected = np.repeat(np.arange(3 * cycle, 3 * cycle + 3, dtype=np.float32), 2).reshape(3, 2, 1)
        assert_same(expected, to_numpy(fresh.tensors["step"]))
        assert (fresh.filled, fresh.memory_index, fresh.env_index) == (True, 0, 0)


@pytest.mark.parametrize("flavour", ["torch", "jax-numpy"])  # a run of several steps needs num_envs == 1
def test_several_steps_in_one_call_export_the_cycle_before_it_is_overwritten(tmp_path, flavour):
    memory = new_memory(flavour, 4, export=True, export_format="npz", export_directory=str(tmp_path))
    memory.create_tensor("step", 1)
    memory.add_samples(step=np.arange(6, dtype=np.float32).reshape(6, 1))
    (path,) = glob.glob(str(tmp_path / "memories" / "*.npz"))
    fresh = new_memory(flavour, 4)
    fresh.load(path)
    assert to_numpy(fresh.tensors["step"]).ravel().tolist() == [0, 1, 2, 3]
    assert to_numpy(memory.tensors["step"]).ravel().tolist() == [4, 5, 2, 3] and memory.memory_index == 2


def test_file_names_are_unique_and_sort_in_time_order(tmp_path):
    import datetime

    assert memory_file_name(0x7F12, "npz", datetime.datetime(2025, 1, 31, 12, 0, 0, 5)) == \
        "25-01-31_12-00-00-000005_memory_0x7f12.npz"
    memory = new_memory("jax-numpy", 2)
    memory.create_tensor("x", 1)
    paths = [memory.save(str(tmp_path), "npz") for _ in range(20)]
    assert paths == sorted(paths) and len(set(paths)) == 20


def test_export_directory_defaults_to_the_experiment(tmp_path):
    memory = new_memory("jax-numpy", 2)
    memory.attach_to_experiment(str(tmp_path / "run"))
    memory.create_tensor("x", 1)
    assert os.path.dirname(memory.save()) == str(tmp_path / "run" / "memories")
    chosen = new_memory("jax-numpy", 2, export_directory=str(tmp_path / "mine"))
    chosen.attach_to_experiment(str(tmp_path / "run"))
    assert chosen.export_directory == str(tmp_path / "mine")


def saved_file(tmp_path, file_format: str, **tensors) -> str:
    memory = new_memory("jax-numpy", 4, num_envs=2)
    for name, (size, dtype) in tensors.items():
        memory.create_tensor(name, size, dtype=dtype)
    memory.add_samples(**{name: np.ones((2, size), dtype) for name, (size, dtype) in tensors.items()})
    return memory.save(str(tmp_path), file_format)


@pytest.mark.parametrize("file_format", FORMATS)
def test_mismatch_lists_every_difference_and_changes_nothing(tmp_path, file_format):
    path = saved_file(tmp_path, file_format, a=(4, np.float32), c=(1, np.float32), d=(1, np.float64))
    memory = new_memory("torch", 4, num_envs=2)
    for name, size in (("a", 3), ("b", 1), ("d", 1)):
        memory.create_tensor(name, size)
    before = to_numpy(memory.tensors["a"]).copy()
    message = (r"does not fit this memory:\n  missing in the file: \['b'\]\n  not in the memory: \['c'\]\n"
               r"  a: saved shape \(4, 2, 4\) → expected \(4, 2, 3\)\n"
               r"  d: saved dtype float64 → expected float32 \(not a lossless cast\)")
    with pytest.raises(MemoryMismatchError, match=message):
        memory.load(path)
    assert_same(before, to_numpy(memory.tensors["a"]))
    assert memory.get_tensor_names() == ["a", "b", "d"] and memory.memory_index == 0

    fresh = new_memory("torch", 5, num_envs=2)
    with pytest.raises(MemoryMismatchError, match=r"memory_size, num_envs: saved \(4, 2\) → memory \(5, 2\)"):
        fresh.load(path)
    assert fresh.tensors == {}


def test_lossless_dtype_casts_are_accepted(tmp_path):
    path = saved_file(tmp_path, "npz", flags=(1, np.bool_), x=(2, np.float32))
    memory = new_memory("jax-numpy", 4, num_envs=2)
    memory.create_tensor("flags", 1, dtype=np.int8)
    memory.create_tensor("x", 2, dtype=np.float64)
    memory.load(path)
    assert memory.tensors["flags"].dtype == np.int8 and memory.tensors["flags"][0].tolist() == [[1], [1]]


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("cut", [0.5, 0.98])
def test_truncated_files_are_refused(tmp_path, file_format, cut):
    path = saved_file(tmp_path, file_format, x=(40, np.float32))
    with open(path, "rb") as file:
        content = file.read()
    with open(path, "wb") as file:
        file.write(content[:int(len(content) * cut)])
    memory = new_memory("torch", 4, num_envs=2)
    with pytest.raises(MemoryFileError, match="corrupt or truncated|truncated or has extra lines"):
        memory.load(path)
    assert memory.tensors == {}


def test_csv_truncated_at_a_row_boundary_or_corrupt_is_refused(tmp_path):
    path = saved_file(tmp_path, "csv", x=(2, np.float32))
    lines = open(path).read().splitlines(keepends=True)
    open(path, "w").write("".join(lines[:-1]))
    with pytest.raises(MemoryFileError, match=r"truncated or has extra lines \(expected 8 complete rows\)"):
        new_memory("torch", 4, num_envs=2).load(path)
    open(path, "w").write("".join(lines[:3] + ["1.0,oops\n"] + lines[4:]))
    with pytest.raises(MemoryFileError, match="corrupt or truncated"):
        new_memory("torch", 4, num_envs=2).load(path)
    open(path, "w").write(lines[0].replace('"memory_size":4', '"memory_size":"x"') + "".join(lines[1:]))
    with pytest.raises(MemoryFileError, match="its header is corrupt"):
        new_memory("torch", 4, num_envs=2).load(path)
    open(path, "w").write("x.0,x.1\n" + "".join(lines[2:]))
    with pytest.raises(MemoryFileError, match="csv files of skrl 1.4.3 lack shapes and dtypes"):
        new_memory("torch", 4, num_envs=2).load(path)


class NotData:
    pass


def test_unknown_formats_and_unsafe_files_are_refused(tmp_path):
    import torch

    memory = new_memory("torch", 4)
    memory.create_tensor("x", 1)
    with pytest.raises(ValueError, match=r"Invalid export_format: expected one of 'pt', 'npz', 'np', 'csv'. "
                                         r"Received: 'json'"):
        memory.save(str(tmp_path), "json")
    with pytest.raises(MemoryFileError, match=r"expected a path ending in one of \.pt, \.npz, \.csv\. "
                                              r"Received: 'memory\.json'"):
        memory.load("memory.json")
    torch.save({"x": torch.zeros(4, 1, 1), "payload": NotData()}, tmp_path / "evil.pt")
    with pytest.raises(MemoryFileError, match="Refused to load .* could run arbitrary code"):
        memory.load(str(tmp_path / "evil.pt"))
    np.save(tmp_path / "evil.npy", np.array([NotData()], dtype=object), allow_pickle=True)
    os.replace(tmp_path / "evil.npy", tmp_path / "evil.npz")
    with pytest.raises(MemoryFileError, match="corrupt or truncated"):
        memory.load(str(tmp_path / "evil.npz"))


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_skrl_1_4_3_pt_and_npz_files_load(tmp_path, flavour):
    import torch

    x = np.arange(8, dtype=np.float32).reshape(4, 2, 1)
    torch.save({"x": torch.from_numpy(x), "done": torch.ones(4, 2, 1, dtype=torch.bool)}, tmp_path / "old.pt")
    torch.save({"x": x}, tmp_path / "old_jax.pt")  # 1.4.3 JAX memories (numpy backend) pickled NumPy arrays
    np.savez(tmp_path / "old.npz", x=x)
    for name in ("old.pt", "old_jax.pt", "old.npz"):
        memory = new_memory(flavour, 4, num_envs=2)
        memory.load(str(tmp_path / name))
        assert_same(x, to_numpy(memory.tensors["x"]))
        assert (memory.filled, memory.memory_index, len(memory)) == (True, 0, 8)


def test_jax_pt_files_need_torch_and_say_which_extra(tmp_path, monkeypatch):
    import skrl.torch

    monkeypatch.delattr(skrl.torch, "array_ops")
    monkeypatch.setitem(sys.modules, "skrl.torch.array_ops", None)
    memory = new_memory("jax-numpy", 2)
    memory.create_tensor("x", 1)
    with pytest.raises(ImportError, match=r"needs PyTorch: pip install 'skrl\[torch\]'"):
        memory.save(str(tmp_path), "pt")
    assert os.path.exists(memory.save(str(tmp_path), "npz"))


def test_memory_file_iterator_gives_the_shapes_import_gives(tmp_path):
    memory = new_memory("torch", 3, num_envs=2)
    fill(memory, "torch", {"image": np.arange(24, dtype=np.int32).reshape(3, 2, 2, 2), "r": np.ones((3, 2, 1))},
         {"image": True, "r": False}, (True, 0, 0))
    paths = [memory.save(str(tmp_path), file_format) for file_format in FORMATS]
    open(os.path.join(os.path.dirname(paths[0]), ".x.pt.1234.skrl-tmp"), "w").close()
    iterator = MemoryFileIterator(str(tmp_path / "memories" / "*"))
    assert len(iterator) == 3
    for (name, data), path in zip(iterator, paths):
        assert name == os.path.basename(path) and list(data) == ["image", "r"]
        assert_same(np.arange(24, dtype=np.int32).reshape(3, 2, 2, 2), data["image"])
        assert data["r"].shape == (3, 2, 1) and data["r"].dtype == np.float64
    open(tmp_path / "memories" / "notes.txt", "w").close()
    with pytest.raises(MemoryFileError, match="Unsupported memory file format"):
        MemoryFileIterator(str(tmp_path / "memories" / "*"))


def test_postprocessing_exports_the_iterator():
    from skrl.utils.postprocessing import MemoryFileIterator as public

    assert public is MemoryFileIterator


def test_csv_is_written_and_read_in_vectorised_row_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(memory_csv, "CSV_CHUNK_VALUES", 64)
    calls = []
    original = memory_csv.format_csv_rows
    monkeypatch.setattr(memory_csv, "format_csv_rows", lambda blocks: calls.append(len(blocks[0])) or
                        original(blocks))
    memory = new_memory("jax-numpy", 250, num_envs=4)
    memory.create_tensor("x", 7)
    memory.create_tensor("done", 1, dtype=np.bool_)
    memory.tensors["x"][:] = np.random.default_rng(0).normal(size=(250, 4, 7))
    path = memory.save(str(tmp_path), "csv")
    assert calls == [8] * 125  # 1,000 rows, 8 rows (64 values) per formatting call
    fresh = new_memory("jax-numpy", 250, num_envs=4)
    fresh.load(path)
    assert_same(memory.tensors["x"], fresh.tensors["x"])


@pytest.mark.parametrize("file_format", ["npz", "csv"])
def test_export_and_import_need_at_most_one_extra_copy(tmp_path, monkeypatch, file_format):
    monkeypatch.setattr(memory_csv, "CSV_CHUNK_VALUES", 1 << 14)
    memory = new_memory("jax-numpy", 10_000, num_envs=4)  # NumPy storage: tracemalloc sees every allocation
    memory.create_tensor("states", 48)
    memory.create_tensor("rewards", 1)
    memory.create_tensor("terminated", 1, dtype=np.bool_)
    memory.tensors["states"][:] = np.random.default_rng(0).normal(size=(10_000, 4, 48))
    size = sum(tensor.nbytes for tensor in memory.tensors.values())  # about 7.8 MB
    target = new_memory("jax-numpy", 10_000, num_envs=4)
    for name, tensor in memory.tensors.items():
        target.create_tensor(name, tensor.shape[2], dtype=tensor.dtype)

    tracemalloc.start()
    path = memory.save(str(tmp_path), file_format)
    _, save_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    target.load(path)
    _, load_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert save_peak < 0.25 * size, f"export peak {save_peak / size:.2f}x the memory"
    assert load_peak < 1.25 * size, f"import peak {load_peak / size:.2f}x the memory"
    assert_same(memory.tensors["states"], target.tensors["states"])


def ppo_agent(backend: str, env, memory, directory: str):
    from builders import ppo_models

    ppo = importlib.import_module(f"skrl.agents.{backend}.ppo").PPO
    return ppo(models=ppo_models(backend, env.observation_space, env.action_space, env.device), memory=memory,
               observation_space=env.observation_space, action_space=env.action_space, device=env.device,
               cfg={"rollouts": 4, "mini_batches": 1, "learning_epochs": 1,
                    "experiment": {"directory": directory, "write_interval": 0, "checkpoint_interval": 0}})


@pytest.mark.parametrize("backend, other", [("torch", "jax"), ("jax", "torch")])
def test_ppo_exports_each_rollout_into_its_experiment_directory(tmp_path, monkeypatch, backend, other):
    """Needs ``AgentCore.init`` to call ``memory.attach_to_experiment(self.experiment_dir)``.

    The last export then loads into the rollout memory of a fresh PPO agent of the other backend (offline use).
    """
    from builders import trainer, wrapped_random_env

    monkeypatch.chdir(tmp_path)
    with jax_array_backend("jax-numpy"):
        env = wrapped_random_env(backend, num_envs=2)
        memory = new_memory(backend.replace("jax", "jax-numpy"), 4, num_envs=2, export=True, export_format="npz")
        agent = ppo_agent(backend, env, memory, str(tmp_path / "runs"))
        trainer(backend, env, agent, timesteps=12).train()
        paths = sorted(glob.glob(os.path.join(agent.experiment_dir, "memories", "*.npz")))
        assert len(paths) == 3 and not os.path.exists(tmp_path / "memories")

        offline = new_memory(other.replace("jax", "jax-numpy"), 4, num_envs=2)
        ppo_agent(other, wrapped_random_env(other, num_envs=2), offline, str(tmp_path / "offline"))
        offline.load(paths[-1])
    assert offline.get_tensor_names() == sorted(["actions", "advantages", "log_prob", "rewards", "returns", "states",
                                                 "terminated", "truncated", "values"])
    assert_same(to_numpy(memory.tensors["states"]), to_numpy(offline.tensors["states"]))
    assert len(offline) == 8 and len(offline.sample(["states", "terminated"], batch_size=8)[0]) == 2
