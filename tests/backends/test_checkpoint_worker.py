"""JAX checkpoints written by the helper process: the same orbax directory as an in-process save, errors reported
at the next wait, a dead helper replaced by in-process saves (nothing lost), and no pickles in the requests."""

import os

import numpy as np
import pytest
from builders import make_ppo, wrapped_gym_env

pytest.importorskip("jax")

from skrl.common import background_writer  # noqa: E402
from skrl.jax import checkpoint_io, checkpoint_worker  # noqa: E402


def _state():
    return {"policy": {"params": {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.zeros(3, np.float32)}},
            "agent_state": {"timestep": 1000, "reward": float("nan"), "name": "PPO", "best": -float("inf"),
                            "flag": True, "none": None, "key": np.array([0, 7], np.uint32), "scalar": np.array(2.5)},
            "pair": (np.ones(2, np.int64), [1, 2.0])}


def _assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b or (a != a and b != b)


def test_requests_carry_the_tree_exactly_and_no_pickles(tmp_path):
    header, payload = checkpoint_worker.encode_request(_state(), str(tmp_path / "x"))
    state, path = checkpoint_worker.decode_request(header, payload)
    _assert_same(state, _state())
    assert path == str(tmp_path / "x")
    with pytest.raises(checkpoint_worker.UnsupportedLeafError):
        checkpoint_worker.encode_request({"f": lambda: 0}, "p")
    with pytest.raises(checkpoint_worker.UnsupportedLeafError):
        checkpoint_worker.encode_request({"o": np.array([object()])}, "p")


def test_training_checkpoints_come_from_the_helper_and_equal_an_in_process_save(tmp_path):
    env = wrapped_gym_env("jax", "CartPole-v1", num_envs=2)
    agent = make_ppo("jax", env, {"rollouts": 4, "experiment": {"directory": str(tmp_path), "write_interval": 0,
                                                                "checkpoint_interval": 4}})
    from builders import trainer

    trainer("jax", env, agent, 8).train()
    helper = checkpoint_worker.worker()
    assert helper is not None and helper.pid != os.getpid()
    if hasattr(os, "getpriority"):  # not niced: a lower priority only postpones writes when every core is busy
        assert os.getpriority(os.PRIO_PROCESS, helper.pid) == os.getpriority(os.PRIO_PROCESS, 0)
    written = os.path.join(agent.experiment_dir, "checkpoints", "agent_8")
    reference = str(tmp_path / "in_process")
    checkpoint_io.save_state(agent._host_state() | {"agent_state": agent._agent_state(8)}, reference)
    from_helper, in_process = checkpoint_io.load_state(written), checkpoint_io.load_state(reference)
    assert sorted(from_helper) == sorted(in_process)
    for name in ("policy", "value", "policy_optimizer", "value_optimizer"):
        _assert_same(from_helper[name], in_process[name])
    assert not [n for n in os.listdir(os.path.dirname(written)) if "tmp" in n]


def test_a_failed_write_is_reraised_at_wait(tmp_path):
    (tmp_path / "not_a_checkpoint").mkdir()
    (tmp_path / "not_a_checkpoint" / "notes.txt").write_text("mine")
    background_writer.submit(checkpoint_worker.save_state, _state(), str(tmp_path / "not_a_checkpoint"))
    with pytest.raises(RuntimeError, match="not a checkpoint"):
        background_writer.wait()
    assert (tmp_path / "not_a_checkpoint" / "notes.txt").read_text() == "mine"


def test_a_dead_helper_is_replaced_by_in_process_saves(tmp_path, monkeypatch):
    doomed = checkpoint_worker.CheckpointWorker()
    monkeypatch.setattr(checkpoint_worker, "_worker", doomed)
    monkeypatch.setattr(checkpoint_worker, "_failed", False)
    doomed._process.kill()
    doomed._process.wait()
    checkpoint_worker.save_state(_state(), str(tmp_path / "saved"))
    _assert_same(checkpoint_io.load_state(str(tmp_path / "saved"))["policy"], _state()["policy"])
    assert checkpoint_worker._worker is None and checkpoint_worker._failed


def test_the_helper_can_be_turned_off(monkeypatch):
    monkeypatch.setenv(checkpoint_worker.ENVIRONMENT_VARIABLE, "0")
    monkeypatch.setattr(checkpoint_worker, "_worker", None)
    monkeypatch.setattr(checkpoint_worker, "_failed", False)
    assert checkpoint_worker.worker() is None
