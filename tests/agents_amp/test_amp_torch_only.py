"""torch AMP specifics: one Adam over the three models (the checkpoint's "optimizer"), the GAE on stored next values,
the discriminator loss against a direct computation, and mixed precision with a shared policy/value model."""

import numpy as np
import pytest
from amp_cases import amp_env, amp_models, make_amp
from builders import module, trainer

torch = pytest.importorskip("torch")


def _cfg(tmp_path, **cfg):
    return {"rollouts": 4, "learning_epochs": 2, "mini_batches": 2, "amp_batch_size": 8, **cfg,
            "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}}


def test_one_optimizer_trains_policy_value_and_discriminator(tmp_path):
    env = amp_env("torch", 2)
    agent = make_amp("torch", env, _cfg(tmp_path))
    assert {"optimizer", "discriminator"} <= set(agent.checkpoint_modules)
    assert not {"policy_optimizer", "value_optimizer", "discriminator_optimizer"} & set(agent.checkpoint_modules)
    trained = {id(p) for group in agent.optimizer.param_groups for p in group["params"]}
    for role in ("policy", "value", "discriminator"):
        assert {id(p) for p in agent.models[role].parameters()} <= trained, role
    before = [p.detach().clone() for p in agent.discriminator.parameters()]
    trainer("torch", env, agent, 4).train()
    assert any(not torch.equal(a, p) for a, p in zip(before, agent.discriminator.parameters()))


def test_gae_with_stored_next_values():
    from skrl.torch.amp import compute_amp_gae

    rng = np.random.default_rng(0)
    T, N, gamma, lam = 5, 3, 0.9, 0.8
    rewards, values, next_values = (rng.normal(size=(T, N, 1)).astype(np.float32) for _ in range(3))
    dones = rng.uniform(size=(T, N, 1)) < 0.3
    expected, advantage = np.zeros((T, N, 1)), np.zeros((N, 1))
    for i in reversed(range(T)):
        advantage = rewards[i] - values[i] + gamma * (next_values[i] + lam * (1 - dones[i]) * advantage)
        expected[i] = advantage
    returns, advantages = compute_amp_gae(*(torch.as_tensor(x) for x in (rewards, dones, values, next_values)),
                                          gamma, lam)
    np.testing.assert_allclose(returns.numpy(), expected + values, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(advantages.numpy(), (expected - expected.mean()) / (expected.std() + 1e-8),
                               rtol=1e-4, atol=1e-5)


def test_discriminator_loss(tmp_path):
    env = amp_env("torch", 2)
    scales = {"discriminator_batch_size": 3, "discriminator_logit_regularization_scale": 0.3,
              "discriminator_gradient_penalty_scale": 0.7, "discriminator_weight_decay_scale": 0.2,
              "discriminator_loss_scale": 1.5}
    agent = make_amp("torch", env, _cfg(tmp_path, **scales))
    generator = torch.Generator().manual_seed(0)
    agent_states, replay_states, motion_states = (torch.randn(6, 10, generator=generator) for _ in range(3))
    loss = agent._discriminator_loss(agent_states, replay_states, motion_states)

    def logits(x):
        return agent.discriminator.act({"states": x}, role="discriminator")[0]

    motion = motion_states[:3].clone().requires_grad_(True)
    fake, real = logits(torch.cat([agent_states[:3], replay_states[:3]])), logits(motion)
    bce = 0.5 * (-torch.log(1 - torch.sigmoid(fake)).mean() - torch.log(torch.sigmoid(real)).mean())
    weights = [m.weight for m in agent.discriminator.modules() if isinstance(m, torch.nn.Linear)]
    gradient = torch.autograd.grad(real.sum(), motion)[0]
    expected = 1.5 * (bce + 0.3 * weights[-1].square().sum() + 0.7 * gradient.square().sum(-1).mean()
                      + 0.2 * sum(w.square().sum() for w in weights))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_mixed_precision_with_a_shared_policy_value_model(tmp_path):
    env = amp_env("torch", 2)
    models = amp_models("torch", env)
    shared = module("utils.model_instantiators", "torch").shared_model(env.observation_space, env.action_space, env.device, roles=["policy", "value"],
                          parameters=[{"network": [{"name": "net", "input": "STATES", "layers": [16],
                                                    "activations": "tanh"}], "output": "ACTIONS"},
                                      {"network": [{"name": "net", "input": "STATES", "layers": [16],
                                                    "activations": "tanh"}], "output": "ONE"}])
    shared.init_state_dict("policy")
    models.update(policy=shared, value=shared)
    agent = make_amp("torch", env, _cfg(tmp_path, mixed_precision=True), models=models)
    assert len(agent.optimizer.param_groups[0]["params"]) == \
        len(list(shared.parameters())) + len(list(models["discriminator"].parameters()))
    trainer("torch", env, agent, 8).train()
    assert all(torch.isfinite(p).all() for p in agent.optimizer.param_groups[0]["params"])
