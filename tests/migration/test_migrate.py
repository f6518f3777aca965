"""Model.migrate and Agent.migrate on both backends, from files in the rl_games, Stable-Baselines3 and CleanRL layouts:
the migrated agent must give the source network's outputs (normalisers included), and a failed mapping loads nothing."""

from __future__ import annotations

import importlib
import json
import logging
import sys

import gymnasium
import numpy as np
import pytest
import torch
from builders import to_numpy
from layouts import (
    FIXTURES,
    Payload,
    cleanrl_agent,
    rl_games_checkpoint,
    rl_games_outputs,
    sb3_expected,
    write_sb3_zip,
)

from skrl.common.errors import CheckpointFileError, UnsafeCheckpointError
from skrl.common.migration import MigrationMappingError
from skrl.common.state_trees import flatten_tree

ATOL = 1e-5
RL_GAMES_AMBIGUOUS_NAME_MAP = {
    "policy": {"net_container.0": "a2c_network.actor_mlp.0", "net_container.2": "a2c_network.actor_mlp.2",
               "net_container.4": "a2c_network.mu"},
    "value": {"net_container.0": "a2c_network.actor_mlp.0", "net_container.2": "a2c_network.actor_mlp.2",
              "net_container.4": "a2c_network.value"},
}
CLEANRL_NAME_MAP = {"policy": {"net_container": "actor_mean", "log_std_parameter": "actor_logstd"},
                    "value": {"net_container": "critic"}}


def _network(layers: list, activation: str) -> list:
    return [{"name": "net", "input": "STATES", "layers": layers, "activations": activation}]


def make_agent(backend: str, tmp_path, obs_dim: int, act_dim: int, policy_network: list, value_network: list = None,
               scalers: bool = False):
    """A PPO agent as a skrl user builds it (model instantiators), optionally with RunningStandardScaler normalisers."""
    instantiators = importlib.import_module(f"skrl.utils.model_instantiators.{backend}")
    observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
    action_space = gymnasium.spaces.Box(-1, 1, (act_dim,), np.float32)
    spaces = (observation_space, action_space, "cpu")
    policy = instantiators.gaussian_model(*spaces, network=policy_network, output="ACTIONS")
    value = instantiators.deterministic_model(*spaces, network=value_network or policy_network, output="ONE")
    policy.init_state_dict("policy")
    value.init_state_dict("value")
    cfg = {"experiment": {"directory": str(tmp_path / "runs")}}
    if scalers:
        scaler = importlib.import_module(f"skrl.resources.preprocessors.{backend}").RunningStandardScaler
        cfg.update(state_preprocessor=scaler, state_preprocessor_kwargs={"size": obs_dim},
                   value_preprocessor=scaler, value_preprocessor_kwargs={"size": 1})
    ppo = importlib.import_module(f"skrl.agents.{backend}.ppo").PPO
    return ppo(models={"policy": policy, "value": value}, memory=None, observation_space=observation_space,
               action_space=action_space, device="cpu", cfg=cfg)


def outputs(agent, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The agent's mean actions and its (denormalised) value estimates for ``obs``."""
    states = np.asarray(obs, np.float32)
    if agent._backend_name == "torch":
        states = torch.as_tensor(states)
    mean_actions = agent.act(states, 0, 1)[2]["mean_actions"]
    values = agent.value.act({"states": agent._state_preprocessor(states)}, role="value")[0]
    return to_numpy(mean_actions), to_numpy(agent._value_preprocessor(values, inverse=True))


def log_std(model) -> np.ndarray:
    if hasattr(model, "log_std_parameter"):
        return to_numpy(model.log_std_parameter)
    return np.asarray(model.state_dict.params["params"]["log_std_parameter"])


def snapshot(agent) -> dict:
    """A copy of every parameter and normaliser statistic of the agent."""
    values = {}
    for name in ("policy", "value", "state_preprocessor", "value_preprocessor"):
        module = agent.checkpoint_modules.get(name)
        if module is not None:
            state = module.state_dict() if callable(module.state_dict) else module.state_dict.params
            values.update({f"{name}/{k}": np.array(to_numpy(v)) for k, v in flatten_tree(state).items()})
    return values


def assert_unchanged(agent, before: dict) -> None:
    after = snapshot(agent)
    assert after.keys() == before.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)


# ---- rl_games ----------------------------------------------------------------------------------------------------


def test_rl_games_fixture_migrates_models_and_normalisers(backend, tmp_path):
    expected = json.loads((FIXTURES / "expected_rl_games.json").read_text())
    agent = make_agent(backend, tmp_path, 4, 2, expected["network"], scalers=True)

    assert agent.migrate(str(FIXTURES / "rl_games_agent.pth")) is True

    mean_actions, values = outputs(agent, np.array(expected["obs"]))
    np.testing.assert_allclose(mean_actions, expected["mean_actions"], atol=ATOL)
    np.testing.assert_allclose(values, expected["value"], atol=ATOL)
    np.testing.assert_allclose(log_std(agent.policy), expected["log_std"], atol=ATOL)
    np.testing.assert_allclose(to_numpy(agent._state_preprocessor.current_count).reshape(()), 1000.0)


def test_rl_games_ambiguous_layout_loads_nothing_then_name_map_resolves(backend, tmp_path):
    checkpoint = rl_games_checkpoint(obs_dim=4, act_dim=1, hidden=[32, 32], seed=3)
    path = tmp_path / "Ant.pth"
    torch.save(checkpoint, path)
    agent = make_agent(backend, tmp_path, 4, 1, _network([32, 32], "elu"), scalers=True)
    before = snapshot(agent)

    with pytest.raises(MigrationMappingError, match="nothing was loaded") as error:
        agent.migrate(str(path))
    message = str(error.value)
    for entry in ("policy: ambiguous: net_container.0.bias", "value: ambiguous: net_container.4.weight",
                  "a2c_network.actor_mlp.0.bias", "a2c_network.actor_mlp.2.bias",
                  "a2c_network.mu.weight", "a2c_network.value.weight", "a2c_network.mu.bias"):
        assert entry in message
    assert_unchanged(agent, before)

    agent.migrate(str(path), name_map=RL_GAMES_AMBIGUOUS_NAME_MAP)
    obs = np.random.default_rng(0).normal(0, 2, (6, 4)).astype(np.float32)
    mus, values = rl_games_outputs(checkpoint, obs)
    mean_actions, agent_values = outputs(agent, obs)
    np.testing.assert_allclose(mean_actions, mus, atol=ATOL)
    np.testing.assert_allclose(agent_values, values, atol=ATOL)


def test_rl_games_normalisers_need_matching_preprocessors(backend, tmp_path):
    agent = make_agent(backend, tmp_path, 4, 2, _network([48, 24], "elu"))
    before = snapshot(agent)
    with pytest.raises(MigrationMappingError, match=r"state_preprocessor: the checkpoint normalises with running_mean"):
        agent.migrate(str(FIXTURES / "rl_games_agent.pth"))
    assert_unchanged(agent, before)


# ---- Stable-Baselines3 ---------------------------------------------------------------------------------------------


def test_sb3_fixture_model_migrate(backend, tmp_path):
    expected = sb3_expected()
    agent = make_agent(backend, tmp_path, 3, 2, expected["policy_network"], expected["value_network"])
    path = str(FIXTURES / "sb3_ppo.zip")

    assert agent.policy.migrate(path=path) is True
    assert agent.value.migrate(path=path) is True

    mean_actions, values = outputs(agent, np.array(expected["obs"]))
    np.testing.assert_allclose(mean_actions, expected["mean_actions"], atol=ATOL)
    np.testing.assert_allclose(values, expected["value"], atol=ATOL)
    np.testing.assert_allclose(log_std(agent.policy), expected["log_std"], atol=ATOL)


def test_sb3_fixture_agent_migrate(backend, tmp_path):
    expected = sb3_expected()
    agent = make_agent(backend, tmp_path, 3, 2, expected["policy_network"], expected["value_network"])
    agent.migrate(str(FIXTURES / "sb3_ppo.zip"))
    mean_actions, values = outputs(agent, np.array(expected["obs"]))
    np.testing.assert_allclose(mean_actions, expected["mean_actions"], atol=ATOL)
    np.testing.assert_allclose(values, expected["value"], atol=ATOL)


def test_sb3_archive_without_policy_is_rejected(backend, tmp_path):
    path = write_sb3_zip(tmp_path / "model.zip", None, with_policy=False)
    agent = make_agent(backend, tmp_path, 3, 2, _network([8], "tanh"))
    with pytest.raises(CheckpointFileError, match=r"no 'policy.pth' member"):
        agent.policy.migrate(path=str(path))


# ---- CleanRL -------------------------------------------------------------------------------------------------------


def test_cleanrl_state_dict_with_name_map(backend, tmp_path):
    source = cleanrl_agent(obs_dim=5, act_dim=2, seed=1)
    path = tmp_path / "ppo_continuous_action.cleanrl_model"
    torch.save(source.state_dict(), path)
    agent = make_agent(backend, tmp_path, 5, 2, _network([64, 64], "tanh"))
    before = snapshot(agent)

    with pytest.raises(MigrationMappingError) as error:
        agent.migrate(str(path))
    ambiguous = "ambiguous: net_container.0.weight (64, 5) <- one of [critic.0.weight, actor_mean.0.weight]"
    assert ambiguous in str(error.value)
    assert "missing: log_std_parameter (2,)" in str(error.value)
    assert_unchanged(agent, before)

    agent.migrate(str(path), name_map=CLEANRL_NAME_MAP)
    obs = np.random.default_rng(1).normal(0, 1, (7, 5)).astype(np.float32)
    mean_actions, values = outputs(agent, obs)
    expected_mean, expected_values = source.outputs(obs)
    np.testing.assert_allclose(mean_actions, expected_mean, atol=ATOL)
    np.testing.assert_allclose(values, expected_values, atol=ATOL)
    np.testing.assert_allclose(log_std(agent.policy), to_numpy(source.actor_logstd).reshape(-1), atol=ATOL)


def test_model_migrate_from_a_state_dict(backend, tmp_path):
    """A torch state dict (here CleanRL's, in memory) migrates into a model of either backend, kernels transposed."""
    source = cleanrl_agent(obs_dim=3, act_dim=2, seed=2)
    agent = make_agent(backend, tmp_path, 3, 2, _network([64, 64], "tanh"))
    agent.value.migrate(state_dict=source.state_dict(), name_map={"net_container": "critic"}, auto_mapping=False)
    obs = np.random.default_rng(2).normal(0, 1, (4, 3)).astype(np.float32)
    np.testing.assert_allclose(outputs(agent, obs)[1], source.outputs(obs)[1], atol=ATOL)


# ---- safety and errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("container", ["rl_games.pth", "sb3.zip"])
def test_pickle_payload_is_refused_and_never_runs(backend, tmp_path, container):
    marker = tmp_path / "payload_ran"
    payload = {"model": {"a2c_network.sigma": torch.zeros(2), "a2c_network.mu.bias": Payload(str(marker))}}
    path = tmp_path / container
    if container.endswith(".zip"):
        write_sb3_zip(path, payload)
    else:
        torch.save(payload, path)
    agent = make_agent(backend, tmp_path, 4, 2, _network([8], "elu"))
    before = snapshot(agent)

    with pytest.raises(UnsafeCheckpointError, match="Refused to load") as error:
        agent.migrate(str(path))
    assert not marker.exists()
    assert repr(str(path) + (":policy.pth" if container.endswith(".zip") else "")) in str(error.value)
    assert_unchanged(agent, before)


def test_model_migrate_argument_errors(backend, tmp_path):
    agent = make_agent(backend, tmp_path, 4, 2, _network([8], "elu"))
    with pytest.raises(ValueError, match="Exactly one of state_dict or path"):
        agent.policy.migrate()
    with pytest.raises(ValueError, match="Exactly one of state_dict or path"):
        agent.policy.migrate(state_dict={}, path="agent.pth")
    with pytest.raises(CheckpointFileError, match=r"Cannot identify file type.*path='agent.ckpt'"):
        agent.policy.migrate(path="agent.ckpt")
    with pytest.raises(ValueError, match=r"Invalid `name_map`: its keys must be model names.*'critic'"):
        agent.migrate(str(FIXTURES / "sb3_ppo.zip"), name_map={"critic": {}})


def test_verbose_logs_the_mapping_table(backend, tmp_path):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("skrl")
    logger.addHandler(handler)
    try:
        expected = sb3_expected()
        agent = make_agent(backend, tmp_path, 3, 2, expected["policy_network"], expected["value_network"])
        agent.policy.migrate(path=str(FIXTURES / "sb3_ppo.zip"), verbose=True)
    finally:
        logger.removeHandler(handler)
    table = "\n".join(record.getMessage() for record in records)
    assert "Migration of GaussianModel:" in table
    lines = [" ".join(line.split()) for line in table.splitlines()]
    assert "net_container.0.weight (32, 3) auto mlp_extractor.policy_net.0.weight" in lines
    assert "log_std_parameter (2,) auto log_std" in lines
    assert any(line.startswith("unused source entries: mlp_extractor.value_net.0.weight") for line in lines)


def test_jax_reading_without_torch_names_the_extra(tmp_path, monkeypatch):
    agent = make_agent("jax", tmp_path, 3, 2, _network([8], "tanh"))
    monkeypatch.setitem(sys.modules, "skrl.torch.migration", None)
    with pytest.raises(ImportError, match=r"pip install skrl\[torch\]"):
        agent.policy.migrate(path=str(FIXTURES / "sb3_ppo.zip"))


def test_jax_convolution_kernels_are_transposed_from_torch_layout():
    """A torch ``Conv2d`` + ``Linear`` state dict gives a Flax ``Conv`` + ``Dense`` model the same outputs."""
    import flax.linen as nn
    import jax.numpy as jnp

    from skrl.models.jax import DeterministicMixin, Model

    class Critic(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space, device=None, **kwargs):
            Model.__init__(self, observation_space, action_space, device, **kwargs)
            DeterministicMixin.__init__(self)

        @nn.compact
        def __call__(self, inputs, role):
            x = inputs["states"].reshape(-1, 6, 5, 2)  # NHWC
            x = jnp.tanh(nn.Conv(4, (3, 2), padding="VALID", name="conv")(x)).mean(axis=(1, 2))
            return nn.Dense(1, name="head")(x), {}

    torch.manual_seed(0)
    conv, head = torch.nn.Conv2d(2, 4, (3, 2)), torch.nn.Linear(4, 1)
    source = {f"{prefix}.{k}": v for prefix, layer in (("conv", conv), ("head", head))
              for k, v in layer.state_dict().items()}
    critic = Critic(gymnasium.spaces.Box(-1, 1, (60,)), gymnasium.spaces.Box(-1, 1, (1,)), "cpu")
    critic.init_state_dict("value")
    critic.migrate(state_dict=source)

    obs = np.random.default_rng(3).normal(0, 1, (4, 60)).astype(np.float32)
    with torch.no_grad():
        x = torch.as_tensor(obs).reshape(-1, 6, 5, 2).permute(0, 3, 1, 2)  # NCHW
        expected = head(torch.tanh(conv(x)).mean(dim=(2, 3))).numpy()
    np.testing.assert_allclose(np.asarray(critic.act({"states": obs}, role="value")[0]), expected, atol=ATOL)
