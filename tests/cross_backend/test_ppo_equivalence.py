"""The same weights give the same numbers on torch and JAX; the same transitions give the same tracked scalars."""

import gymnasium
import numpy as np
import pytest
from builders import make_ppo, wrapped_gym_env

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")


def torch_to_flax(state_dict):
    """Map torch instantiator parameters (``net_container.0.weight``) onto flax paths (``net_container/layers_0/kernel``)."""
    params = {}
    for name, tensor in state_dict.items():
        value = tensor.detach().cpu().numpy().copy()  # not a view: the torch agent keeps training its tensors
        if name == "log_std_parameter":
            params[name] = value
            continue
        container, index, kind = name.split(".")
        leaf = params.setdefault(container, {}).setdefault(f"layers_{index}", {})
        leaf["kernel" if kind == "weight" else "bias"] = value.T if kind == "weight" else value
    return {"params": params}


def _agents(tmp_path, env_id, cfg=None):
    cfg = {"experiment": {"directory": str(tmp_path), "write_interval": 1, "checkpoint_interval": 0}, **(cfg or {})}
    envs = {b: wrapped_gym_env(b, env_id, num_envs=3) for b in ("torch", "jax")}
    agents = {b: make_ppo(b, envs[b], cfg) for b in envs}
    for agent in agents.values():
        agent.init(trainer_cfg={"timesteps": 100})
    for role in ("policy", "value"):
        model = agents["jax"].models[role]
        model.state_dict = model.state_dict.replace(params=torch_to_flax(agents["torch"].models[role].state_dict()))
    return agents, envs


@pytest.mark.parametrize("env_id", ["Pendulum-v1", "CartPole-v1"])
def test_same_weights_same_log_probs_and_values(tmp_path, env_id):
    agents, envs = _agents(tmp_path, env_id)
    rng = np.random.default_rng(0)
    obs_dim = envs["torch"].observation_space.shape[0]
    states = rng.uniform(-1, 1, (7, obs_dim)).astype(np.float32)
    space = envs["torch"].action_space
    if isinstance(space, gymnasium.spaces.Discrete):
        actions = rng.integers(0, space.n, (7, 1))
    else:
        actions = rng.uniform(-1, 1, (7, space.shape[0])).astype(np.float32)

    t_policy, t_value = agents["torch"].policy, agents["torch"].value
    with torch.no_grad():
        t_logp = t_policy.act({"states": torch.as_tensor(states), "taken_actions": torch.as_tensor(actions)}, role="policy")[1]
        t_values = t_value.act({"states": torch.as_tensor(states)}, role="value")[0]
    j_policy, j_value = agents["jax"].policy, agents["jax"].value
    j_logp = j_policy.act({"states": states, "taken_actions": actions}, role="policy")[1]
    j_values = j_value.act({"states": states}, role="value")[0]
    np.testing.assert_allclose(np.asarray(j_logp), t_logp.numpy(), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(j_values), t_values.numpy(), atol=1e-5, rtol=1e-5)


def test_same_scripted_transitions_same_tracked_scalars(tmp_path):
    agents, envs = _agents(tmp_path, "Pendulum-v1")
    written = {}
    for backend, agent in agents.items():
        rng = np.random.default_rng(1)
        for t in range(40):
            rewards = rng.normal(size=(3, 1)).astype(np.float32)
            terminated = rng.uniform(size=(3, 1)) < 0.1
            truncated = rng.uniform(size=(3, 1)) < 0.1
            if backend == "torch":
                rewards, terminated, truncated = map(torch.as_tensor, (rewards, terminated, truncated))
            _stats_only(agent, rewards, terminated, truncated, t)
        written[backend] = agent.write_tracking_data(40, 40)
    assert set(written["torch"]) == set(written["jax"])
    assert "Reward / Total reward (mean)" in written["torch"]
    for tag, value in written["torch"].items():
        assert written["jax"][tag] == pytest.approx(value, rel=1e-5, abs=1e-5), tag


def _stats_only(agent, rewards, terminated, truncated, t):
    """Exercise the base-class statistics (what every agent runs first in record_transition)."""
    from skrl.common.agent_core import AgentCore

    AgentCore.record_transition(agent, None, None, rewards, None, terminated, truncated, {}, t, 40)


@pytest.mark.parametrize("max_norm", [0.5, 100.0, 0.0])
def test_jax_clips_policy_and_value_gradients_on_their_joint_norm_as_torch(max_norm):
    """torch PPO/A2C/RPO/AMP clip one optimizer over every trained model; JAX steps one optimizer per model, so it
    scales every model's gradients by the same joint factor first. A large value gradient then also shrinks the
    policy's step, on both backends alike (0 disables clipping)."""
    from skrl.jax.ppo_functions import clip_by_joint_norm

    rng = np.random.default_rng(3)
    policy = {"w": rng.normal(size=(4, 3)).astype(np.float32), "b": rng.normal(size=3).astype(np.float32) * 0.01}
    value = {"w": rng.normal(size=(4, 1)).astype(np.float32) * 30.0}  # the value's norm dominates
    tensors = [torch.nn.Parameter(torch.zeros(a.shape)) for a in (policy["w"], policy["b"], value["w"])]
    for tensor, grad in zip(tensors, (policy["w"], policy["b"], value["w"])):
        tensor.grad = torch.as_tensor(grad.copy())
    if max_norm > 0:
        torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    clipped_policy, clipped_value, nothing = clip_by_joint_norm((policy, value, None), max_norm)
    assert nothing is None
    for tensor, got in zip(tensors, (clipped_policy["w"], clipped_policy["b"], clipped_value["w"])):
        np.testing.assert_allclose(np.asarray(got), tensor.grad.numpy(), rtol=1e-6, atol=1e-8)
    if max_norm == 0.5:  # clipped alone, the policy would keep a norm of 0.5; the value's share of the joint norm
        # leaves it much less
        policy_norm = np.sqrt(sum(np.sum(np.square(np.asarray(g))) for g in clipped_policy.values()))
        assert policy_norm < 0.25
