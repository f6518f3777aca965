"""Checkpoint files in the layouts of rl_games, Stable-Baselines3 and CleanRL (skrl reference 4.3), written with
torch as those libraries write them, and NumPy re-implementations of their forward passes (the reference outputs)."""

from __future__ import annotations

import collections
import json
import pathlib
import zipfile

import numpy as np
import torch
from torch import nn

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures" / "migration"
RL_GAMES_EPSILON = 1e-5  # rl_games RunningMeanStd default


def _linear(rng: np.random.Generator, out_features: int, in_features: int) -> tuple[torch.Tensor, torch.Tensor]:
    weight = rng.normal(0, 1 / np.sqrt(in_features), (out_features, in_features)).astype(np.float32)
    return torch.from_numpy(weight), torch.from_numpy(rng.normal(0, 0.1, out_features).astype(np.float32))


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def _dense(state: dict, prefix: str, x: np.ndarray) -> np.ndarray:
    return x @ state[f"{prefix}.weight"].double().numpy().T + state[f"{prefix}.bias"].double().numpy()


# ---- rl_games ------------------------------------------------------------------------------------------------------


def rl_games_checkpoint(obs_dim: int, act_dim: int, hidden: list[int], seed: int = 0) -> dict:
    """What rl_games' ``A2CAgent.save`` writes for ``continuous_a2c_logstd`` (shared MLP, fixed sigma, normalisers)."""
    rng = np.random.default_rng(seed)
    model = collections.OrderedDict()
    model["value_mean_std.running_mean"] = torch.tensor([1.5], dtype=torch.float64)
    model["value_mean_std.running_var"] = torch.tensor([2.25], dtype=torch.float64)
    model["value_mean_std.count"] = torch.tensor(500.0, dtype=torch.float64)
    model["running_mean_std.running_mean"] = torch.from_numpy(rng.normal(0, 1, obs_dim))
    model["running_mean_std.running_var"] = torch.from_numpy(rng.uniform(0.05, 3.0, obs_dim))
    model["running_mean_std.count"] = torch.tensor(500.0, dtype=torch.float64)
    model["a2c_network.sigma"] = torch.from_numpy(rng.uniform(-1, 0, act_dim).astype(np.float32))
    sizes = [obs_dim, *hidden]
    for i in range(len(hidden)):
        weight, bias = _linear(rng, sizes[i + 1], sizes[i])
        model[f"a2c_network.actor_mlp.{2 * i}.weight"], model[f"a2c_network.actor_mlp.{2 * i}.bias"] = weight, bias
    model["a2c_network.value.weight"], model["a2c_network.value.bias"] = _linear(rng, 1, hidden[-1])
    model["a2c_network.mu.weight"], model["a2c_network.mu.bias"] = _linear(rng, act_dim, hidden[-1])
    return {"model": model, "epoch": 12, "optimizer": {"state": {}, "param_groups": [{"lr": 3e-4}]}, "frame": 24576,
            "last_mean_rewards": np.float32(87.5), "env_state": None}


def rl_games_outputs(checkpoint: dict, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """rl_games' ``mus`` (input normalised) and ``values`` (denormalised) for ``obs``."""
    state = checkpoint["model"]
    mean, var = state["running_mean_std.running_mean"].numpy(), state["running_mean_std.running_var"].numpy()
    x = np.clip((obs - mean) / np.sqrt(var + RL_GAMES_EPSILON), -5, 5)
    layers = sorted({int(k.split(".")[2]) for k in state if k.startswith("a2c_network.actor_mlp.")})
    for i in layers:
        x = _elu(_dense(state, f"a2c_network.actor_mlp.{i}", x))
    value = np.clip(_dense(state, "a2c_network.value", x), -5, 5)
    value_mean, value_var = state["value_mean_std.running_mean"].numpy(), state["value_mean_std.running_var"].numpy()
    return _dense(state, "a2c_network.mu", x), np.sqrt(value_var + RL_GAMES_EPSILON) * value + value_mean


# ---- CleanRL -------------------------------------------------------------------------------------------------------


class CleanRLAgent(nn.Module):
    """The ``Agent`` of CleanRL's ``ppo_continuous_action.py`` (tanh MLPs, state-independent ``actor_logstd``)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.critic = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                    nn.Linear(hidden, 1))
        self.actor_mean = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                        nn.Linear(hidden, act_dim))
        self.actor_logstd = nn.Parameter(torch.linspace(-0.5, 0.3, act_dim).reshape(1, act_dim))

    @torch.no_grad()
    def outputs(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = torch.as_tensor(obs, dtype=torch.float32)
        return self.actor_mean(x).numpy(), self.critic(x).numpy()


def cleanrl_agent(obs_dim: int, act_dim: int, seed: int = 0) -> CleanRLAgent:
    torch.manual_seed(seed)
    agent = CleanRLAgent(obs_dim, act_dim)
    with torch.no_grad():
        for parameter in agent.parameters():
            if parameter.ndim == 1:
                parameter.normal_(0, 0.1)  # non-zero biases, so that a bias mix-up shows
    return agent


# ---- Stable-Baselines3 -------------------------------------------------------------------------------------------


def sb3_expected() -> dict:
    return json.loads((FIXTURES / "expected_sb3.json").read_text())


def write_sb3_zip(path: pathlib.Path, policy_payload: object, with_policy: bool = True) -> pathlib.Path:
    """A Stable-Baselines3 ``.zip``: ``data``, ``policy.pth`` (``torch.save`` of the payload), version files."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", json.dumps({"policy_class": "ActorCriticPolicy"}))
        if with_policy:
            with archive.open("policy.pth", "w") as member:
                torch.save(policy_payload, member)
        archive.writestr("pytorch_variables.pth", b"")
        archive.writestr("_stable_baselines3_version", "2.9.2")
    return path


class Payload:
    """Unpickling this runs ``os.makedirs(marker)``: a stand-in for code hidden in a checkpoint."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return os.makedirs, (self.marker,)
