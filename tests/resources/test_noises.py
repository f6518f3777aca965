"""Noises on both backends: shapes, dtype, statistics, the Ornstein-Uhlenbeck recursion and bad arguments."""

import numpy as np
import pytest
from builders import module, to_numpy

from skrl.common.errors import InvalidConfigValueError


def _noises(backend):
    return module("resources.noises", backend)


@pytest.mark.parametrize("size, shape", [(3, (3,)), ((2, 4), (2, 4)), ([5, 1], (5, 1))])
def test_gaussian_samples_have_the_asked_shape_and_float32(backend, size, shape):
    sample = to_numpy(_noises(backend).GaussianNoise(mean=0.0, std=1.0).sample(size))
    assert sample.shape == shape and sample.dtype == np.float32


def test_sample_like_takes_the_shape_of_its_argument(backend):
    noise = _noises(backend).GaussianNoise(mean=0.0, std=1.0)
    reference = noise.sample((3, 2))
    assert to_numpy(noise.sample_like(reference)).shape == (3, 2)


def test_gaussian_statistics_and_fresh_samples(backend):
    noise = _noises(backend).GaussianNoise(mean=0.5, std=0.2)
    first, second = to_numpy(noise.sample((200_000,))), to_numpy(noise.sample((200_000,)))
    assert abs(first.mean() - 0.5) < 0.005 and abs(first.std() - 0.2) < 0.005
    assert not np.array_equal(first, second)


def test_ornstein_uhlenbeck_follows_the_recursion(backend):
    """std=0 makes the normal draw equal ``mean``: state 2, 3, 3.5 and samples ``base_scale * state``."""
    noise = _noises(backend).OrnsteinUhlenbeckNoise(theta=0.5, sigma=2.0, base_scale=3.0, mean=1.0, std=0.0)
    samples = [to_numpy(noise.sample((2,))) for _ in range(3)]
    np.testing.assert_allclose(np.stack(samples), [[6.0, 6.0], [9.0, 9.0], [10.5, 10.5]], rtol=1e-6)
    assert np.allclose(to_numpy(noise.state), 3.5)


def test_ornstein_uhlenbeck_restarts_for_another_shape(backend):
    noise = _noises(backend).OrnsteinUhlenbeckNoise(theta=0.5, sigma=2.0, base_scale=1.0, mean=1.0, std=0.0)
    noise.sample((2,))
    noise.sample((2,))
    np.testing.assert_allclose(to_numpy(noise.sample((1, 3))), [[2.0, 2.0, 2.0]])


def test_ornstein_uhlenbeck_is_temporally_correlated(backend):
    noise = _noises(backend).OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.2, base_scale=1.0)
    series = np.concatenate([to_numpy(noise.sample((1,))) for _ in range(400)])
    assert np.corrcoef(series[:-1], series[1:])[0, 1] > 0.5


@pytest.mark.parametrize("kwargs, match", [
    ({"mean": 0.0, "std": -1.0}, r"Invalid `std`: expected a finite number >= 0.0. Received: std=-1.0"),
    ({"mean": "a", "std": 1.0}, r"Invalid `mean`"),
])
def test_bad_gaussian_parameters_are_refused(backend, kwargs, match):
    with pytest.raises(InvalidConfigValueError, match=match):
        _noises(backend).GaussianNoise(**kwargs)


def test_bad_sizes_are_refused(backend):
    noise = _noises(backend).GaussianNoise(mean=0.0, std=1.0)
    with pytest.raises(ValueError, match="Invalid `size`: dimensions must be >= 0"):
        noise.sample((2, -1))
    with pytest.raises(TypeError, match="Invalid `size`"):
        noise.sample("abc")


def test_jax_samples_follow_the_array_backend():
    from skrl import config
    from skrl.resources.noises.jax import GaussianNoise

    previous = config.jax.backend
    try:
        config.jax.backend = "numpy"
        assert isinstance(GaussianNoise(0.0, 1.0).sample((2,)), np.ndarray)
        config.jax.backend = "jax"
        import jax

        assert isinstance(GaussianNoise(0.0, 1.0).sample((2,)), jax.Array)
    finally:
        config.jax.backend = previous
