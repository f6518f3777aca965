"""The torch PPO step's flat gradient buffer: same clipping as ``clip_grad_norm_``, robust to outside resets."""

import pytest

torch = pytest.importorskip("torch")

from skrl.torch.gradients import FlatGradients  # noqa: E402


def _twin_models() -> tuple:
    torch.manual_seed(0)
    first = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    second = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    second.load_state_dict(first.state_dict())
    return first, second


@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clipping_matches_clip_grad_norm_over_several_steps(max_norm):
    flat_model, reference = _twin_models()
    gradients = FlatGradients(flat_model.parameters())
    inputs = torch.randn(32, 4)
    for step in range(3):
        gradients.zero_()
        (flat_model(inputs * (step + 1)) ** 2).sum().backward()
        norm = gradients.clip_norm_(max_norm)
        for parameter in reference.parameters():
            parameter.grad = None
        (reference(inputs * (step + 1)) ** 2).sum().backward()
        expected = torch.nn.utils.clip_grad_norm_(list(reference.parameters()), max_norm)
        torch.testing.assert_close(norm, expected)
        for ours, theirs in zip(flat_model.parameters(), reference.parameters()):
            torch.testing.assert_close(ours.grad, theirs.grad)


def test_gradients_reset_from_outside_are_reattached_not_accumulated():
    model, _ = _twin_models()
    gradients = FlatGradients(model.parameters())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    inputs = torch.randn(8, 4)
    gradients.zero_()
    model(inputs).sum().backward()
    first = [p.grad.clone() for p in model.parameters()]
    optimizer.zero_grad()  # set_to_none: the views are gone
    gradients.zero_()
    model(inputs).sum().backward()
    gradients.clip_norm_(1e6)
    for parameter, expected in zip(model.parameters(), first):
        torch.testing.assert_close(parameter.grad, expected)  # one backward's worth, not two
    assert all(parameter.grad is view for parameter, view in zip(gradients.parameters, gradients._views))
