"""JAX Adam: returns an immutable Optimizer, updates the model, matches optax, pure form inside jit, 1.4.3 layout."""

import pickle

import flax
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from skrl.resources.optimizers.jax import Adam, Optimizer

FIXTURES = "/work/shared/fixtures/skrl-1.4.3"


@flax.struct.dataclass
class StateDict:
    params: dict


class TinyModel:
    def __init__(self, params):
        self.state_dict = StateDict(params=params)


def params():
    return {"w": jnp.array([1.0, -2.0, 3.0]), "b": jnp.array(0.5)}


GRAD = {"w": jnp.array([0.1, 0.2, -0.3]), "b": jnp.array(1.0)}


def optax_reference(transformation, steps, lr=None):
    p, state = params(), transformation.init(params())
    for _ in range(steps):
        updates, state = transformation.update(GRAD, state, p)
        if lr is not None:
            updates = jax.tree_util.tree_map(lambda u: -lr * u, updates)
        p = optax.apply_updates(p, updates)
    return p


def assert_tree_close(a, b):
    jax.tree_util.tree_map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-6), a, b)


def test_step_updates_model_and_returns_new_optimizer():
    model = TinyModel(params())
    optimizer = Adam(model, lr=1e-2)
    assert isinstance(optimizer, Optimizer) and not isinstance(optimizer, Adam)
    new_optimizer = optimizer.step(GRAD, model)
    assert new_optimizer is not optimizer
    assert int(optimizer.state[0].count) == 0 and int(new_optimizer.state[0].count) == 1  # the old one is unchanged
    assert not np.allclose(model.state_dict.params["w"], params()["w"])
    new_optimizer = new_optimizer.step(GRAD, model)
    assert_tree_close(model.state_dict.params, optax_reference(optax.adam(1e-2), 2))


def test_unscaled_with_lr_and_scaled_override():
    model = TinyModel(params())
    optimizer = Adam(model, scale=False)
    for _ in range(2):
        optimizer = optimizer.step(GRAD, model, lr=3e-3)
    assert_tree_close(model.state_dict.params, optax_reference(optax.scale_by_adam(), 2, lr=3e-3))
    scaled_model = TinyModel(params())
    scaled = Adam(scaled_model, lr=1.0)
    for _ in range(2):
        scaled = scaled.step(GRAD, scaled_model, lr=3e-3)  # lr replaces the built-in rate (1.4.3 reversed the step)
    assert_tree_close(scaled_model.state_dict.params, model.state_dict.params)


def test_grad_norm_clip():
    model = TinyModel(params())
    optimizer = Adam(model, lr=1e-2, grad_norm_clip=0.1)
    optimizer.step(GRAD, model)
    reference = optax_reference(optax.chain(optax.clip_by_global_norm(0.1), optax.adam(1e-2)), 1)
    assert_tree_close(model.state_dict.params, reference)


def test_pure_form_inside_jit():
    model = TinyModel(params())
    optimizer = Adam(model, lr=1e-2, grad_norm_clip=0.5)

    @jax.jit
    def train(optimizer, p):
        for _ in range(3):
            grad = jax.grad(lambda q: jnp.sum(q["w"] ** 2) + q["b"] ** 2)(p)
            p, optimizer = optimizer.apply_gradients(grad, p, lr=None)
        return p, optimizer

    p, trained = train(optimizer, model.state_dict.params)
    for _ in range(3):
        grad = jax.grad(lambda q: jnp.sum(q["w"] ** 2) + q["b"] ** 2)(model.state_dict.params)
        optimizer = optimizer.step(grad, model)
    assert_tree_close(p, model.state_dict.params)
    assert int(trained.state[1][0].count) == 3


def test_skrl_143_optimizer_state_loads():
    with open(f"{FIXTURES}/jax_agent.pickle", "rb") as f:
        data = pickle.load(f)
    policy_params = flax.serialization.msgpack_restore(data["policy"])
    optimizer = Adam(TinyModel(policy_params), lr=1e-3, grad_norm_clip=0.5)
    assert set(flax.serialization.to_state_dict(optimizer)) == {"state"}
    restored = flax.serialization.from_bytes(optimizer, data["policy_optimizer"])
    raw = flax.serialization.msgpack_restore(data["policy_optimizer"])["state"]["1"]["0"]
    assert int(restored.state[1][0].count) == int(raw["count"])
    assert_tree_close(restored.state[1][0].nu, raw["nu"])


@pytest.mark.parametrize("kwargs, match", [(dict(lr=0), "lr"), (dict(lr="fast"), "lr"), (dict(grad_norm_clip=-1), "grad_norm_clip")])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Adam(TinyModel(params()), **kwargs)
