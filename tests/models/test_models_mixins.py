"""Models and mixins on both backends: the documented examples, the output table (4.8), errors and utilities."""

import gymnasium
import numpy as np
import pytest
from model_harness import harness, spaces

NETWORK = [{"name": "net", "input": "STATES", "layers": [8], "activations": "elu"}]
BATCH = 5


def spec_policy(backend: str):
    """The user model of the docs for each backend, written as a 1.4.3 user writes it."""
    if backend == "jax":
        import flax.linen as nn
        import jax.numpy as jnp

        from skrl.models.jax import GaussianMixin, Model

        class Policy(GaussianMixin, Model):
            def __init__(self, observation_space, action_space, device=None, clip_actions=False, **kwargs):
                Model.__init__(self, observation_space, action_space, device, **kwargs)
                GaussianMixin.__init__(self, clip_actions)

            @nn.compact
            def __call__(self, inputs, role):
                x = nn.elu(nn.Dense(32)(inputs["states"]))
                return nn.Dense(self.num_actions)(x), self.param("log_std", lambda _: jnp.zeros(self.num_actions)), {}

        return Policy
    import torch
    import torch.nn as nn

    from skrl.models.torch import GaussianMixin, Model

    class Policy(GaussianMixin, Model):
        def __init__(self, observation_space, action_space, device=None, clip_actions=False, clip_log_std=True,
                     min_log_std=-20, max_log_std=2, reduction="sum"):
            Model.__init__(self, observation_space, action_space, device)
            GaussianMixin.__init__(self, clip_actions, clip_log_std, min_log_std, max_log_std, reduction)
            self.net = nn.Sequential(nn.Linear(self.num_observations, 32), nn.ELU(), nn.Linear(32, self.num_actions))
            self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

        def compute(self, inputs, role):
            return self.net(inputs["states"]), self.log_std_parameter, {}

    return Policy


def test_documented_user_model_runs(backend):
    h = harness(backend)
    observation_space, action_space = spaces("box")
    policy = spec_policy(backend)(observation_space, action_space, clip_actions=True)
    policy.init_state_dict("policy")
    actions, log_prob, outputs = h.act(policy, {"states": np.random.rand(BATCH, 4).astype(np.float32)}, "policy")
    assert actions.shape == (BATCH, 3) and log_prob.shape == (BATCH, 1)
    assert np.all(actions <= 1) and np.all(actions >= -1)
    assert outputs["mean_actions"].shape == (BATCH, 3) and outputs["entropy"].shape == (BATCH, 3)


# mixin, action space, options, actions shape, actions dtype kind, log_prob shape, output keys, entropy shape
MIXIN_TABLE = [
    ("gaussian", "box", {}, (BATCH, 3), "f", (BATCH, 1), {"mean_actions"}, (BATCH, 3)),
    ("gaussian", "box", {"reduction": "none"}, (BATCH, 3), "f", (BATCH, 3), {"mean_actions"}, (BATCH, 3)),
    ("gaussian", "discrete", {}, (BATCH, 4), "f", (BATCH, 1), {"mean_actions"}, (BATCH, 4)),
    ("categorical", "discrete", {}, (BATCH, 1), "i", (BATCH, 1), {"net_output"}, (BATCH,)),
    ("categorical", "discrete", {"unnormalized_log_prob": False}, (BATCH, 1), "i", (BATCH, 1), {"net_output"}, (BATCH,)),
    ("multicategorical", "multidiscrete", {}, (BATCH, 2), "i", (BATCH, 1), {"net_output"}, (BATCH, 1)),
    ("multicategorical", "multidiscrete", {"reduction": "none"}, (BATCH, 2), "i", (BATCH, 2), {"net_output"}, (BATCH, 2)),
    ("deterministic", "box", {"clip_actions": True}, (BATCH, 3), "f", None, set(), None),
]
BACKEND_KEYS = {"jax": {"gaussian": {"log_std", "stddev"}, "categorical": {"stddev"}, "multicategorical": {"stddev"}}}


@pytest.mark.parametrize("mixin, kind, options, shape, dtype_kind, log_prob_shape, keys, entropy_shape", MIXIN_TABLE)
def test_mixin_outputs(backend, mixin, kind, options, shape, dtype_kind, log_prob_shape, keys, entropy_shape):
    h = harness(backend)
    observation_space, action_space = spaces(kind)
    output = "softmax(ACTIONS)" if options.get("unnormalized_log_prob") is False else "ACTIONS"
    model = getattr(h.instantiators, f"{mixin}_model")(observation_space, action_space, network=NETWORK,
                                                          output=output, **options)
    model.init_state_dict("model")
    actions, log_prob, outputs = h.act(model, {"states": np.random.rand(BATCH, 4).astype(np.float32)})
    assert actions.shape == shape and actions.dtype.kind == dtype_kind
    assert (log_prob is None and log_prob_shape is None) or log_prob.shape == log_prob_shape
    expected_keys = keys | BACKEND_KEYS.get(backend, {}).get(mixin, set()) | ({"entropy"} if entropy_shape else set())
    assert set(outputs) == expected_keys
    if entropy_shape:
        assert outputs["entropy"].shape == entropy_shape and np.all(np.isfinite(outputs["entropy"]))
    if mixin == "deterministic":
        assert np.all(np.abs(actions) <= 1)


def test_torch_multivariate_gaussian_and_entropy_before_act():
    import torch

    observation_space, action_space = spaces("box")
    model = harness("torch").instantiators.multivariate_gaussian_model(observation_space, action_space,
                                                                      network=NETWORK, output="ACTIONS")
    model.init_state_dict("policy")
    assert float(model.get_entropy()) == 0.0 and model.distribution() is None
    actions, log_prob, _ = model.act({"states": torch.rand(BATCH, 4)})
    assert actions.shape == (BATCH, 3) and log_prob.shape == (BATCH, 1)
    assert model.get_entropy().shape == (BATCH,) and model.get_log_std().shape == (BATCH, 3)


def test_taken_actions_give_their_log_prob(backend):
    h = harness(backend)
    observation_space, action_space = spaces("discrete")
    model = h.instantiators.categorical_model(observation_space, action_space, network=NETWORK, output="ACTIONS")
    model.init_state_dict("policy")
    states = np.random.rand(BATCH, 4).astype(np.float32)
    taken = np.array([[0], [1], [2], [3], [0]])
    _, log_prob, outputs = h.act(model, {"states": states, "taken_actions": taken})
    logits = outputs["net_output"]
    expected = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    np.testing.assert_allclose(log_prob[:, 0], expected[np.arange(BATCH), taken[:, 0]], atol=1e-5)


def test_invalid_options_raise(backend):
    h = harness(backend)
    observation_space, action_space = spaces("box")
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', 'prod' or 'none'.*'max'"):
        h.instantiators.gaussian_model(observation_space, action_space, reduction="max", network=NETWORK, output="ACTIONS")
    with pytest.raises(ValueError, match="MultiDiscrete"):
        h.instantiators.multicategorical_model(observation_space, action_space, network=NETWORK, output="ACTIONS")
    model = h.instantiators.deterministic_model(observation_space, action_space, network=NETWORK, output="ACTIONS")
    with pytest.raises(ValueError, match="Invalid mode.*'training'"):
        model.set_mode("training")


@pytest.mark.parametrize("space, shape, kind", [
    (gymnasium.spaces.Box(-2, 2, (3,)), (BATCH, 3), "f"),
    (gymnasium.spaces.Discrete(4), (BATCH, 1), "i"),
    (gymnasium.spaces.MultiDiscrete([2, 3]), (BATCH, 2), "i"),
])
def test_random_act(backend, space, shape, kind):
    h = harness(backend)
    model = h.instantiators.deterministic_model(spaces("box")[0], space, network=NETWORK, output="ONE")
    actions, log_prob, outputs = model.random_act({"states": h.array(np.zeros((BATCH, 4), np.float32))})
    actions = h.numpy(actions)
    assert actions.shape == shape and actions.dtype.kind == kind and log_prob is None and outputs == {}
    assert np.all(actions >= space.low if kind == "f" else actions >= 0)


def test_random_act_unsupported_space(backend):
    from skrl.common.models import UnsupportedActionSpaceError

    h = harness(backend)
    model = h.instantiators.deterministic_model(spaces("box")[0], gymnasium.spaces.MultiBinary(2), network=NETWORK,
                                                output="ONE")
    with pytest.raises(UnsupportedActionSpaceError, match="not supported") as error:
        model.random_act({"states": h.array(np.zeros((2, 4), np.float32))})
    assert isinstance(error.value, NotImplementedError)


def test_update_and_init_parameters(backend):
    h = harness(backend)
    observation_space, action_space = spaces("box")
    source, target = (h.instantiators.deterministic_model(observation_space, action_space, network=NETWORK,
                                                          output="ONE") for _ in range(2))
    for model in (source, target):
        model.init_state_dict("value")
    source.init_biases()
    assert all(np.all(v == 0) for k, v in h.params(source).items() if k.endswith("bias"))
    before = h.params(target)
    target.update_parameters(source, polyak=0.25)
    for key, value in h.params(target).items():
        np.testing.assert_allclose(value, 0.75 * before[key] + 0.25 * h.params(source)[key], atol=1e-6)
    target.update_parameters(source)
    assert all(np.array_equal(v, h.params(source)[k]) for k, v in h.params(target).items())


def test_jax_act_is_traceable_with_a_key():
    import jax

    observation_space, action_space = spaces("box")
    policy = spec_policy("jax")(observation_space, action_space)
    policy.init_state_dict("policy")
    states = np.random.rand(BATCH, 4).astype(np.float32)
    act = jax.jit(lambda params, key: policy.act({"states": states, "key": key}, "policy", params)[0])
    first = act(policy.state_dict.params, jax.random.PRNGKey(1))
    assert np.array_equal(first, act(policy.state_dict.params, jax.random.PRNGKey(1)))
    assert not np.array_equal(first, act(policy.state_dict.params, jax.random.PRNGKey(2)))
    assert policy._g_prng.counter == 0
    inputs = {"states": states}
    a1, a2 = policy.act(inputs, "policy")[0], policy.act({"states": states}, "policy")[0]
    assert "key" in inputs and policy._g_prng.counter == 2 and not np.array_equal(a1, a2)


def test_torch_set_mode_reaches_every_submodule():
    """``set_mode`` skips ``nn.Module.train`` when nothing would change, yet a submodule a user switched by hand
    is still brought in line (dropout on in "train", off in "eval")."""
    from skrl.utils.model_instantiators.torch import deterministic_model

    observation_space, action_space = spaces("box")
    model = deterministic_model(observation_space, action_space, network=NETWORK, output="ACTIONS")
    model.set_mode("train")
    assert all(module.training for module in model.modules())
    next(iter(model.children())).eval()
    model.set_mode("train")
    assert all(module.training for module in model.modules())
    model.set_mode("eval")
    assert not any(module.training for module in model.modules())
    model.set_mode("eval")
    assert not any(module.training for module in model.modules())


def test_torch_set_mode_runs_a_submodule_own_train():
    """A submodule with its own ``train`` (e.g. one that keeps batch norm frozen) still has it called by
    ``set_mode``; plain submodules only get the flag (and dropout behaves per mode)."""
    import torch

    from skrl.torch.models import Model
    from skrl.torch.mixins import DeterministicMixin

    calls = []

    class FrozenNorm(torch.nn.BatchNorm1d):
        def train(self, mode=True):
            calls.append(mode)
            super().train(mode)
            self.training = False  # always in evaluation mode
            return self

    class Policy(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space, "cpu")
            DeterministicMixin.__init__(self)
            self.net = torch.nn.Sequential(torch.nn.Linear(4, 8), FrozenNorm(8), torch.nn.Dropout(0.5),
                                           torch.nn.Linear(8, 2))

        def compute(self, inputs, role=""):
            return self.net(inputs["states"]), {}

    observation_space, action_space = spaces("box")
    model = Policy(observation_space, action_space)
    model.set_mode("eval")
    assert calls == [False] and not model.net[2].training
    model.set_mode("train")
    assert calls == [False, True] and model.net[2].training and not model.net[1].training
    states = torch.ones(64, 4)
    assert not torch.equal(model.act({"states": states})[0], model.act({"states": states})[0])  # dropout on

    plain = Policy(observation_space, action_space)
    plain.net[1] = torch.nn.BatchNorm1d(8)
    plain.set_mode("eval")
    assert not any(module.training for module in plain.modules())
    assert torch.equal(plain.act({"states": states})[0], plain.act({"states": states})[0])  # dropout off
    plain.set_mode("train")
    assert all(module.training for module in plain.modules())


def test_torch_entropy_output_only_with_gradients():
    """Acting under ``no_grad`` (as agents do) leaves the entropy out of the outputs; ``get_entropy`` still has it."""
    import torch

    from skrl.utils.model_instantiators.torch import categorical_model

    observation_space, _ = spaces("box")
    model = categorical_model(observation_space, gymnasium.spaces.Discrete(3), network=NETWORK, output="ACTIONS")
    states = torch.rand(BATCH, 4)
    with torch.no_grad():
        _, _, outputs = model.act({"states": states})
    assert "entropy" not in outputs and model.get_entropy().shape == (BATCH,)
    _, _, outputs = model.act({"states": states})
    assert outputs["entropy"].shape == (BATCH,) and outputs["entropy"].requires_grad


def test_categorical_samples_follow_the_policy_probabilities(backend):
    h = harness(backend)
    observation_space, action_space = spaces("discrete")
    model = h.instantiators.categorical_model(observation_space, action_space, network=NETWORK, output="ACTIONS")
    model.init_state_dict("policy")
    draws = 40_000
    states = np.repeat(np.random.default_rng(0).random((1, 4), dtype=np.float32) * 4, draws, axis=0)
    actions, _, outputs = h.act(model, {"states": states})
    logits = outputs["net_output"][0].astype(np.float64)
    probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    frequencies = np.bincount(actions.reshape(-1), minlength=4) / draws
    np.testing.assert_allclose(frequencies, probabilities, atol=4 * np.sqrt(0.25 / draws))


def test_torch_categorical_never_draws_a_masked_action():
    import torch

    from skrl.torch.mixins import _sample_categorical

    logits = torch.log_softmax(torch.tensor([[0.0, -float("inf"), 2.0, -float("inf")]]), -1).expand(20_000, 4)
    drawn = set(_sample_categorical(logits).reshape(-1).tolist())
    assert drawn == {0, 2}
