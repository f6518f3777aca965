"""KLAdaptiveLR on both backends: the rule as a table, bounds, neutral calls, state, jit."""

import jax
import jax.numpy as jnp
import pytest
import torch

from skrl.common.kl_adaptive import KLAdaptiveRule
from skrl.resources.schedulers import jax as jax_schedulers
from skrl.resources.schedulers import torch as torch_schedulers

# defaults: kl_threshold 0.008, kl_factor 2 -> lower above 0.016, raise below 0.004; lr_factor 1.5; bounds [1e-6, 1e-2]
RULE_TABLE = [
    dict(lr=1e-3, kl=0.02, expected=1e-3 / 1.5),  # too high: lowered
    dict(lr=1e-3, kl=0.001, expected=1e-3 * 1.5),  # too low: raised
    dict(lr=1e-3, kl=0.008, expected=1e-3),  # in the band: kept
    dict(lr=1e-3, kl=0.016, expected=1e-3),  # band edges are inclusive
    dict(lr=1e-3, kl=0.004, expected=1e-3),
    dict(lr=1.2e-6, kl=0.5, expected=1e-6),  # lowered, but not below min_lr
    dict(lr=9e-3, kl=0.0, expected=1e-2),  # raised, but not above max_lr
    dict(lr=1e-7, kl=0.5, expected=1e-6),  # below min_lr: max(lr / factor, min_lr) lifts it (as in skrl 1.4.3)
]


def kl_step(backend, lr, kl, **kwargs):
    if backend == "torch":
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
        scheduler = torch_schedulers.KLAdaptiveLR(optimizer, **kwargs)
        scheduler.step(kl)
        assert scheduler.get_last_lr() == [optimizer.param_groups[0]["lr"]]
        return optimizer.param_groups[0]["lr"]
    return jax_schedulers.KLAdaptiveLR(**kwargs)(0, lr, kl)


@pytest.mark.parametrize("case", RULE_TABLE)
def test_rule_table(backend, case):
    assert kl_step(backend, case["lr"], case["kl"]) == pytest.approx(case["expected"], rel=1e-9)


def test_custom_factors(backend):
    lr = kl_step(backend, 1e-3, 0.05, kl_threshold=0.01, kl_factor=4, lr_factor=2.0)
    assert lr == pytest.approx(5e-4)


def test_torch_neutral_steps_and_tensor_kl():
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=1e-3)
    scheduler = torch_schedulers.KLAdaptiveLR(optimizer)
    assert isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler)
    scheduler.step()
    assert scheduler.get_last_lr() == [1e-3]
    scheduler.step(torch.tensor([0.1]))
    assert scheduler.get_last_lr() == [pytest.approx(1e-3 / 1.5)]
    scheduler.step(kl=0.0001, epoch=7)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-3)


def test_torch_state_dict_round_trip():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    scheduler = torch_schedulers.KLAdaptiveLR(optimizer, kl_threshold=0.02)
    scheduler.step(1.0)
    state = scheduler.state_dict()
    assert state["kl_threshold"] == 0.02 and state["_last_lr"] == [pytest.approx(1e-3 / 1.5)]
    other = torch_schedulers.KLAdaptiveLR(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=5e-3))
    other.load_state_dict(state)
    assert other.kl_threshold == 0.02 and other.get_last_lr() == state["_last_lr"]


def test_jax_neutral_calls_and_aliases():
    schedule = jax_schedulers.kl_adaptive()
    assert schedule(10) == 1.0
    assert schedule(10, 3e-4) == 3e-4
    assert jax_schedulers.KLAdaptiveRL is jax_schedulers.KLAdaptiveLR is jax_schedulers.kl_adaptive
    assert torch_schedulers.KLAdaptiveRL is torch_schedulers.KLAdaptiveLR
    assert isinstance(schedule(0, 1e-3, 0.02), float)


def test_jax_schedule_inside_jit():
    schedule = jax_schedulers.KLAdaptiveLR()
    lrs = jax.jit(lambda lr, kls: [lr := schedule(0, lr, kl) for kl in kls][-1])(jnp.float32(1e-3), jnp.array([0.1, 0.1, 0.0]))
    assert float(lrs) == pytest.approx(1e-3 / 1.5, rel=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr_factor=0), "lr_factor"),
    (dict(kl_factor=-1), "kl_factor"),
    (dict(kl_threshold=-0.1), "kl_threshold"),
    (dict(min_lr=0.1, max_lr=0.01), "min_lr <= max_lr"),
])
def test_invalid_arguments(backend, kwargs, match):
    with pytest.raises(ValueError, match=match):
        KLAdaptiveRule(**kwargs)
    with pytest.raises(ValueError, match=match):
        kl_step(backend, 1e-3, 0.0, **kwargs)
