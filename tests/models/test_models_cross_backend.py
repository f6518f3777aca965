"""A torch model and a JAX model with the same weights give the same outputs and log-probabilities."""

import numpy as np
import pytest
from model_harness import harness, spaces, torch_to_flax

NETWORK = [{"name": "net", "input": "STATES", "layers": [16, 8], "activations": ["relu", "tanh"]}]
BATCH = 7

# instantiator, action space, options, taken actions, output keys to compare
CASES = [
    ("gaussian", "box", {}, lambda rng: rng.uniform(-1, 1, (BATCH, 3)).astype(np.float32), ("mean_actions", "entropy")),
    ("gaussian", "box", {"reduction": "none", "initial_log_std": -0.7}, lambda rng: rng.normal(size=(BATCH, 3)),
     ("mean_actions", "entropy")),
    ("categorical", "discrete", {}, lambda rng: rng.integers(0, 4, (BATCH, 1)), ("net_output", "entropy")),
    ("multicategorical", "multidiscrete", {}, lambda rng: np.stack([rng.integers(0, 2, BATCH),
                                                                     rng.integers(0, 3, BATCH)], -1),
     ("net_output", "entropy")),
]


@pytest.mark.parametrize("kind, space, options, taken, keys", CASES)
def test_same_weights_same_log_prob(kind, space, options, taken, keys):
    rng = np.random.default_rng(3)
    observation_space, action_space = spaces(space)
    models = {}
    for backend in ("torch", "jax"):
        models[backend] = getattr(harness(backend).instantiators, f"{kind}_model")(
            observation_space, action_space, network=NETWORK, output="ACTIONS", **options)
        models[backend].init_state_dict("policy")
    flax_params = torch_to_flax(models["torch"].state_dict())
    models["jax"].state_dict = models["jax"].state_dict.replace(params=flax_params)
    inputs = {"states": rng.uniform(-1, 1, (BATCH, 4)).astype(np.float32), "taken_actions": taken(rng)}
    results = {backend: harness(backend).act(model, inputs) for backend, model in models.items()}
    np.testing.assert_allclose(results["torch"][1], results["jax"][1], atol=1e-5)
    for key in keys:
        np.testing.assert_allclose(results["torch"][2][key], results["jax"][2][key], atol=1e-5)
