"""Hub round trips with the real ``huggingface_hub`` client against a local stand-in server (127.0.0.1): push a
checkpoint with its model card, download it (then again from the cache with the server stopped), load it."""

from __future__ import annotations

import importlib
import os
import sys

import numpy as np
import pytest
import yaml
from builders import ppo_models, to_numpy
from fake_hub import FakeHub

from skrl.utils.huggingface import build_model_card, download_model_from_huggingface, push_model_to_huggingface

pytest.importorskip("huggingface_hub")

OBS = np.random.default_rng(0).uniform(-1, 1, (5, 3)).astype(np.float32)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """The stand-in server, with the client pointed at it and a fresh cache (constants are read at import)."""
    from huggingface_hub import constants

    with FakeHub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setattr(constants, "ENDPOINT", server.endpoint)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                            server.endpoint + "/{repo_id}/resolve/{revision}/{filename}")
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setenv("HF_TOKEN", "hf_local_stand_in")
        yield server


def make_agent(backend: str, tmp_path, perturb: bool = False):
    import gymnasium

    observation_space = gymnasium.spaces.Box(-1, 1, (3,), np.float32)
    action_space = gymnasium.spaces.Box(-1, 1, (2,), np.float32)
    models = ppo_models(backend, observation_space, action_space, "cpu")
    if perturb:  # the trained agent: parameters unlike a freshly built one's
        for model in models.values():
            model.init_parameters("uniform")
    ppo = importlib.import_module(f"skrl.agents.{backend}.ppo").PPO
    return ppo(models=models, memory=None, observation_space=observation_space, action_space=action_space,
               device="cpu", cfg={"experiment": {"directory": str(tmp_path / "runs")}})


def mean_actions(agent) -> np.ndarray:
    if agent._backend_name == "torch":
        import torch

        return to_numpy(agent.act(torch.as_tensor(OBS), 0, 1)[2]["mean_actions"])
    return to_numpy(agent.act(OBS, 0, 1)[2]["mean_actions"])


def test_push_download_load_round_trip(backend, hub, tmp_path):
    trained = make_agent(backend, tmp_path, perturb=True)
    checkpoint = str(tmp_path / ("agent.pt" if backend == "torch" else "agent"))  # JAX: an orbax directory
    trained.save(checkpoint)
    filename = os.path.basename(checkpoint)

    url = push_model_to_huggingface(checkpoint, "me/ppo-pendulum", agent=trained, environment="Pendulum-v1",
                                    evaluation_return=-151.25, tags=["ppo"])
    assert url.startswith(f"{hub.endpoint}/me/ppo-pendulum/commit/")
    stored = hub.repos["me/ppo-pendulum"].files
    if backend == "torch":
        assert stored[filename] == open(checkpoint, "rb").read()
    else:
        assert len([name for name in stored if name.startswith(f"{filename}/")]) > 1

    path = download_model_from_huggingface("me/ppo-pendulum", filename=filename)
    assert os.path.isdir(path) == (backend == "jax")
    fresh = make_agent(backend, tmp_path)
    assert not np.allclose(mean_actions(fresh), mean_actions(trained))
    fresh.load(path)
    np.testing.assert_array_equal(mean_actions(fresh), mean_actions(trained))

    user_agents = [value for method, route, headers in hub.requests if "/resolve/" in route
                   for key, value in headers.items() if key.lower() == "user-agent"]
    assert user_agents and all("skrl/" in user_agent for user_agent in user_agents)

    hub.stop()  # a second download comes from the cache
    assert download_model_from_huggingface("me/ppo-pendulum", filename=filename) == path
    again = make_agent(backend, tmp_path)
    again.load(path)
    np.testing.assert_array_equal(mean_actions(again), mean_actions(trained))


def test_model_card_describes_the_agent(hub, tmp_path):
    trained = make_agent("torch", tmp_path)
    trained.save(str(tmp_path / "best_agent.pt"))
    push_model_to_huggingface(str(tmp_path / "best_agent.pt"), "me/card", agent=trained, environment="Pendulum-v1",
                              evaluation_return=-151.25, tags=["ppo"])
    card = hub.repos["me/card"].files["README.md"].decode()
    metadata = yaml.safe_load(card.split("---")[1])
    assert metadata["library_name"] == "skrl"
    assert metadata["tags"] == ["skrl", "reinforcement-learning", "deep-reinforcement-learning", "torch", "Pendulum-v1",
                                "ppo"]
    result = metadata["model-index"][0]["results"][0]
    assert result["dataset"]["name"] == "Pendulum-v1" and result["metrics"][0]["value"] == -151.25
    for row in ("| Backend | torch |", "| Algorithm | PPO |", "| Final evaluation return | -151.25 |"):
        assert row in card
    assert 'download_model_from_huggingface("me/card", filename="best_agent.pt")' in card
    config = yaml.safe_load(card.split("```yaml")[1].split("```")[0])
    assert config["rollouts"] == trained.cfg["rollouts"] and config["learning_rate"] == trained.cfg["learning_rate"]


def test_model_card_without_evaluation_has_no_model_index():
    card = build_model_card("me/x", "agent", "jax")
    metadata = yaml.safe_load(card.split("---")[1])
    assert "model-index" not in metadata and "jax" in metadata["tags"]
    assert "| Final evaluation return | not given |" in card and "## Agent configuration" not in card


def test_missing_checkpoint_on_the_hub(hub, tmp_path):
    (tmp_path / "agent.pt").write_bytes(b"x")
    push_model_to_huggingface(str(tmp_path / "agent.pt"), "me/one", backend="torch")
    with pytest.raises(FileNotFoundError, match=r"'me/one' .* no checkpoint file or directory named 'other.pt'"):
        download_model_from_huggingface("me/one", filename="other.pt")


def test_push_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No checkpoint at"):
        push_model_to_huggingface(str(tmp_path / "absent.pt"), "me/x")
    (tmp_path / "agent.ckpt").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"Cannot tell the backend.*backend='torch'"):
        push_model_to_huggingface(str(tmp_path / "agent.ckpt"), "me/x")


@pytest.mark.parametrize("call", [lambda: download_model_from_huggingface("me/x"),
                                  lambda: push_model_to_huggingface("agent.pt", "me/x")], ids=["download", "push"])
def test_missing_client_names_the_extra(monkeypatch, call):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(ImportError, match=r"pip install skrl\[hub\]"):
        call()
