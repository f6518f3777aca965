"""Weights & Biases in offline mode: the run written to disk is read back (history, name, config)."""

import glob
import json
import os
import struct
import sys

import pytest
from builders import make_ppo, read_events, trainer, wrapped_gym_env

from skrl.common.wandb_sink import init_kwargs

wandb = pytest.importorskip("wandb")

REWARD_TAGS = [f"Reward / {kind} reward ({r})" for kind in ("Instantaneous", "Total") for r in ("min", "max", "mean")]


def _records(path):
    """The protobuf records of an offline ``run-<id>.wandb`` file (a LevelDB-style log of 32 KiB blocks)."""
    from wandb.proto import wandb_internal_pb2

    data = open(path, "rb").read()
    assert data[:4] == b":W&B", "not a W&B transaction log"
    pos, block, chunk = 7, 32768, b""
    while pos + 7 <= len(data):
        if block - pos % block < 7:
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        if kind == 0 and length == 0:
            pos += block - pos % block
            continue
        chunk, pos = chunk + data[pos + 7:pos + 7 + length], pos + 7 + length
        if kind in (1, 4):  # a full record, or the last piece of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunk)
            chunk = b""
            yield record


def _key(item):
    """A history key; W&B stores keys holding "/" as their parts in ``nested_key``."""
    return item.key or "/".join(item.nested_key)


def _read_offline_run(wandb_dir):
    """``(display name, config, history rows, metric definitions)`` of the single offline run under ``wandb_dir``."""
    wandb.teardown()  # waits for the W&B service, which may still be writing the file after ``run.finish()``
    (path,) = glob.glob(os.path.join(wandb_dir, "wandb", "offline-run-*", "run-*.wandb"))
    name, config, history, metrics = None, {}, [], []
    for record in _records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            name = record.run.display_name
            config.update({item.key: json.loads(item.value_json) for item in record.run.config.update})
        elif kind == "config":
            config.update({item.key: json.loads(item.value_json) for item in record.config.update})
        elif kind == "history":
            history.append({_key(item): json.loads(item.value_json) for item in record.history.item})
        elif kind == "metric":
            metrics.append((record.metric.name or record.metric.glob_name, record.metric.step_metric))
    return name, config, history, metrics


@pytest.fixture
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    yield tmp_path
    if wandb.run is not None:
        wandb.finish()
    wandb.tensorboard.unpatch()
    wandb.teardown()  # also makes the next test's wandb.setup read WANDB_DIR again


def test_offline_run_has_each_reward_tag_once_per_step(backend, offline):
    env = wrapped_gym_env(backend, "CartPole-v1", num_envs=2)
    experiment = {"directory": str(offline / "runs"), "write_interval": 16, "checkpoint_interval": 0, "wandb": True,
                  "wandb_kwargs": {"config": {"user_key": 1, "rollouts": -1}}}
    agent = make_ppo(backend, env, {"rollouts": 16, "mini_batches": 2, "learning_epochs": 1, "experiment": experiment})
    loop = trainer(backend, env, agent, 64)
    agent.writer.add_scalar("Custom / user value", 3.0, 5)
    loop.train()

    name, config, history, metrics = _read_offline_run(offline)
    assert name == os.path.basename(agent.experiment_dir)
    assert {"rollouts", "learning_rate", "experiment", "timesteps", "headless", "policy", "value"} <= set(config)
    assert config["user_key"] == 1 and config["rollouts"] == 16  # the user's config is kept, then updated
    tensorboard = read_events(agent.experiment_dir)
    assert [step for step, _ in tensorboard["Reward / Instantaneous reward (mean)"]] == [16, 32, 48, 64]
    assert "Reward / Total reward (mean)" in tensorboard
    for tag in REWARD_TAGS:  # once per written step, with the TensorBoard value
        logged = [(row["global_step"], row[tag]) for row in history if tag in row]
        expected = tensorboard.get(tag, [])
        assert [step for step, _ in logged] == [step for step, _ in expected], tag
        assert [value for _, value in logged] == pytest.approx([value for _, value in expected], rel=1e-6), tag
    assert [(row["global_step"], row["Custom / user value"]) for row in history if "Custom / user value" in row] == [(5, 3.0)]
    assert ("*", "global_step") in metrics


def test_init_kwargs_defaults_and_user_overrides(backend, tmp_path):
    env = wrapped_gym_env(backend, "CartPole-v1", num_envs=2)
    agent = make_ppo(backend, env, {"experiment": {"directory": str(tmp_path), "experiment_name": "exp",
                                                   "wandb_kwargs": {"sync_tensorboard": False, "project": "p"}}})
    kwargs = init_kwargs(agent, {"timesteps": 10})
    assert kwargs["name"] == "exp" and kwargs["project"] == "p" and kwargs["sync_tensorboard"] is False
    assert kwargs["config"]["timesteps"] == 10 and "policy" in kwargs["config"]
    default = init_kwargs(make_ppo(backend, env, {"experiment": {"directory": str(tmp_path), "experiment_name": "e2"}}), {})
    assert default["name"] == "e2" and default["sync_tensorboard"] is True


def test_bad_user_config_is_named(tmp_path, backend):
    env = wrapped_gym_env(backend, "CartPole-v1", num_envs=2)
    agent = make_ppo(backend, env, {"experiment": {"directory": str(tmp_path), "wandb": True,
                                                   "wandb_kwargs": {"config": "not-a-dict"}}})
    with pytest.raises(TypeError, match=r"wandb_kwargs\['config'\].*not-a-dict"):
        agent.init(trainer_cfg={"timesteps": 10})


def test_missing_wandb_names_the_extra(tmp_path, backend, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)
    env = wrapped_gym_env(backend, "CartPole-v1", num_envs=2)
    agent = make_ppo(backend, env, {"experiment": {"directory": str(tmp_path), "wandb": True}})
    with pytest.raises(ImportError, match=r"pip install 'skrl\[wandb\]'"):
        agent.init(trainer_cfg={"timesteps": 10})


class _FakeRun:
    def __init__(self, log, kwargs):
        self.id, self._log, self.kwargs = "run-id", log, kwargs

    def define_metric(self, name, step_metric=None):
        self._log.append(("define_metric", name, step_metric))

    def log(self, row):
        self._log.append(("log", row))

    def finish(self):
        self._log.append(("finish",))


def test_sink_starts_once_and_resumes_after_close(monkeypatch):
    from types import SimpleNamespace

    from skrl.common.wandb_sink import WandbSink

    calls = []
    fake = SimpleNamespace(init=lambda **kwargs: calls.append(("init", kwargs)) or _FakeRun(calls, kwargs))
    monkeypatch.setitem(sys.modules, "wandb", fake)
    sink = WandbSink({"name": "run"})
    sink.write({"Reward / Total reward (mean)": 1.0}, 10)
    sink.log_scalar("Custom / x", 2.0, 11)
    sink.close()
    sink.close()
    sink.write({}, 12)
    sink.write({"Reward / Total reward (mean)": 3.0}, 20)
    inits = [kwargs for kind, *rest in calls if kind == "init" for kwargs in rest]
    assert inits == [{"name": "run"}, {"name": "run", "id": "run-id", "resume": "allow"}]
    assert ("define_metric", "*", "global_step") in calls
    rows = [call[1] for call in calls if call[0] == "log"]
    assert rows == [{"Reward / Total reward (mean)": 1.0, "global_step": 10}, {"Custom / x": 2.0, "global_step": 11},
                    {"Reward / Total reward (mean)": 3.0, "global_step": 20}]
    assert calls.count(("finish",)) == 1
