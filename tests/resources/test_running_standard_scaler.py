"""RunningStandardScaler on both backends: statistics against a NumPy reference, output, state I/O, pure JAX functions."""

import pickle

import flax.serialization
import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from skrl import config
from skrl.common.errors import CheckpointMismatchError
from skrl.resources.preprocessors import jax as jax_preprocessors
from skrl.resources.preprocessors.jax import RunningStandardScaler as JaxScaler
from skrl.resources.preprocessors.torch import RunningStandardScaler as TorchScaler

FIXTURES = "/work/shared/fixtures/skrl-1.4.3"


@pytest.fixture(params=["numpy", "jax"])
def jax_backend(request):
    previous = config.jax.backend
    config.jax.backend = request.param
    yield request.param
    config.jax.backend = previous


def make_scaler(backend, size, **kwargs):
    if backend == "torch":
        return TorchScaler(size, device="cpu", **kwargs)
    return JaxScaler(size, **kwargs)


def call(backend, scaler, x, **kwargs):
    x = torch.tensor(x) if backend == "torch" else x
    out = scaler(x, **kwargs)
    return out.numpy() if backend == "torch" else np.asarray(out)


def statistics(backend, scaler):
    params = scaler.state_dict() if backend == "torch" else scaler.state_dict.params
    return {k: np.asarray(v).reshape(-1)[0] if k == "current_count" else np.asarray(v) for k, v in params.items()}


def reference_statistics(batches):
    """A second implementation: the prior (mean 0, var 1, count 1) merged batch by batch, in float64."""
    mean, var, count = 0.0, 1.0, 1.0
    for batch in batches:
        batch = batch.reshape(-1, batch.shape[-1]).astype(np.float64)
        n = batch.shape[0]
        b_mean, b_var = batch.mean(0), (batch.var(0, ddof=1) if n > 1 else np.zeros(batch.shape[-1]))
        total = count + n
        m2 = var * count + b_var * n + (b_mean - mean) ** 2 * count * n / total
        mean, var, count = mean + (b_mean - mean) * n / total, m2 / total, total
    return mean, var, count


@pytest.mark.parametrize("shape", [(7, 3), (1, 3), (4, 5, 3)])
def test_statistics_match_numpy_reference(backend, shape):
    rng = np.random.default_rng(0)
    batches = [rng.normal(2.0, 3.0, shape).astype(np.float32) for _ in range(4)]
    scaler = make_scaler(backend, 3)
    for batch in batches:
        call(backend, scaler, batch, train=True)
    mean, var, count = reference_statistics(batches)
    got = statistics(backend, scaler)
    np.testing.assert_allclose(got["running_mean"], mean, rtol=1e-5)
    np.testing.assert_allclose(got["running_variance"], var, rtol=1e-5)
    assert got["current_count"] == count
    assert np.all(np.isfinite(got["running_variance"]))


def test_hand_checked_update(backend):
    # prior mean 0, var 1, count 1; batch [1, 3]: mean 2, unbiased var 2, n 2
    # M2 = 1 + 2*2 + 2**2 * 1*2/3 = 23/3 -> var 23/9; mean 2*2/3 = 4/3; count 3
    scaler = make_scaler(backend, 1)
    call(backend, scaler, np.array([[1.0], [3.0]], np.float32), train=True)
    got = statistics(backend, scaler)
    np.testing.assert_allclose(got["running_mean"], [4 / 3], rtol=1e-6)
    np.testing.assert_allclose(got["running_variance"], [23 / 9], rtol=1e-6)
    assert got["current_count"] == 3


def test_one_row_batch_keeps_variance_finite(backend):
    scaler = make_scaler(backend, 2)
    call(backend, scaler, np.array([[5.0, -5.0]], np.float32), train=True)
    got = statistics(backend, scaler)
    # var = (1*1 + 0 + 25*1*1/2) / 2
    np.testing.assert_allclose(got["running_variance"], [6.75, 6.75], rtol=1e-6)


def test_output_clip_and_inverse(backend):
    scaler = make_scaler(backend, 2, clip_threshold=2.0)
    call(backend, scaler, np.array([[0.0, 10.0], [4.0, 20.0], [2.0, 30.0]], np.float32), train=True)
    got = statistics(backend, scaler)
    x = np.array([[1.0, 15.0], [3.0, 21.0]], np.float32)
    expected = np.clip((x - got["running_mean"]) / (np.sqrt(got["running_variance"]) + 1e-8), -2, 2)
    np.testing.assert_allclose(call(backend, scaler, x), expected, rtol=1e-5)
    np.testing.assert_allclose(call(backend, scaler, np.array([[100.0, -100.0]], np.float32)), [[2.0, -2.0]])
    y = call(backend, scaler, x)
    np.testing.assert_allclose(call(backend, scaler, y, inverse=True), x, rtol=1e-5)
    inverse_clipped = np.sqrt(got["running_variance"]) * np.array([2.0, -2.0]) + got["running_mean"]
    np.testing.assert_allclose(call(backend, scaler, np.array([[9.0, -9.0]], np.float32), inverse=True), [inverse_clipped], rtol=1e-5)


def test_output_dtype_and_shape(backend):
    scaler = make_scaler(backend, 3)
    out = call(backend, scaler, np.ones((2, 4, 3), np.float32), train=True)
    assert out.shape == (2, 4, 3) and out.dtype == np.float32


def test_torch_and_jax_agree(jax_backend):
    rng = np.random.default_rng(1)
    torch_scaler, jax_scaler = TorchScaler(4, device="cpu"), JaxScaler(4)
    for _ in range(3):
        x = rng.normal(-1.0, 2.0, (16, 4)).astype(np.float32)
        torch_out = call("torch", torch_scaler, x, train=True)
        jax_out = call("jax", jax_scaler, x, train=True)
        np.testing.assert_allclose(torch_out, jax_out, rtol=1e-5, atol=1e-6)
    for key, value in statistics("torch", torch_scaler).items():
        np.testing.assert_allclose(value, statistics("jax", jax_scaler)[key], rtol=1e-5)


def test_torch_buffers_layout():
    scaler = TorchScaler(gymnasium.spaces.Dict({"a": gymnasium.spaces.Box(-1, 1, (2,)), "b": gymnasium.spaces.Discrete(4)}), device="cpu")
    state = scaler.state_dict()
    assert list(state) == ["running_mean", "running_variance", "current_count"]
    assert [(v.dtype, tuple(v.shape)) for v in state.values()] == [(torch.float64, (3,)), (torch.float64, (3,)), (torch.float64, ())]


def test_jax_state_layout_and_array_type(jax_backend):
    scaler = JaxScaler((2, 3))
    params = scaler.state_dict.params
    assert [(v.dtype, v.shape) for v in params.values()] == [(np.float32, (6,)), (np.float32, (6,)), (np.float32, (1,))]
    array_type = jax.Array if jax_backend == "jax" else np.ndarray
    assert all(isinstance(v, array_type) for v in params.values())
    assert isinstance(scaler(np.zeros((2, 6), np.float32), train=True), array_type)


def test_skrl_143_checkpoints_load():
    torch_state = torch.load(f"{FIXTURES}/torch_agent.pt", weights_only=False)["state_preprocessor"]
    torch_scaler = TorchScaler(3, device="cpu")
    torch_scaler.load_state_dict(torch_state)
    assert torch_scaler.current_count.item() == 65
    with open(f"{FIXTURES}/jax_agent.pickle", "rb") as f:
        data = pickle.load(f)["state_preprocessor"]
    jax_scaler = JaxScaler(3)
    params = flax.serialization.from_bytes(jax_scaler.state_dict.params, data)
    jax_scaler.state_dict = jax_scaler.state_dict.replace(params=params)
    np.testing.assert_allclose(jax_scaler.running_mean, torch_scaler.running_mean.numpy(), rtol=1e-6)
    assert jax_scaler.current_count.shape == (1,)


def test_jax_state_dict_mismatch_lists_differences():
    scaler = JaxScaler(3)
    with pytest.raises(CheckpointMismatchError, match=r"running_mean: saved shape \(4,\) -> expected shape \(3,\)"):
        scaler.state_dict = {"running_mean": np.zeros(4), "running_variance": np.ones(3), "current_count": np.ones(1)}
    with pytest.raises(CheckpointMismatchError, match="missing keys.*current_count"):
        scaler.state_dict = {"running_mean": np.zeros(3), "running_variance": np.ones(3)}


@pytest.mark.parametrize("bad, match", [(dict(size=0), "size"), (dict(size=2, epsilon=-1), "epsilon"), (dict(size=2, clip_threshold=0), "clip_threshold")])
def test_invalid_arguments(backend, bad, match):
    kwargs = dict(bad)
    size = kwargs.pop("size")
    with pytest.raises(ValueError, match=match):
        make_scaler(backend, size, **kwargs)


def test_wrong_feature_dimension(backend):
    with pytest.raises(ValueError, match=r"last dimension is 3. Received: shape=\(2, 4\)"):
        call(backend, make_scaler(backend, 3), np.zeros((2, 4), np.float32), train=True)


def test_jax_pure_functions_inside_jit(jax_backend):
    scaler = JaxScaler(3)
    rng = np.random.default_rng(2)
    batches = [rng.normal(1.0, 2.0, (8, 3)).astype(np.float32) for _ in range(3)]

    @jax.jit
    def normalise_all(params, xs):
        for x in xs:
            params = jax_preprocessors.update(params, x)
        y = jax_preprocessors.standardize(params, xs[-1], clip_threshold=scaler.clip_threshold, epsilon=scaler.epsilon)
        z, params = scaler.apply(params, xs[-1], inverse=True)
        return y, z, params

    params = jax.tree_util.tree_map(jnp.asarray, scaler.params)
    y, z, new_params = normalise_all(params, [jnp.asarray(b) for b in batches])
    expected = [call("jax", scaler, b, train=True) for b in batches][-1]
    np.testing.assert_allclose(y, expected, rtol=1e-5)
    np.testing.assert_allclose(z, call("jax", scaler, batches[-1], inverse=True), rtol=1e-5)
    for key, value in scaler.params.items():
        np.testing.assert_allclose(new_params[key], value, rtol=1e-6)
    scaler.params = new_params
    assert scaler.current_count.shape == (1,)
