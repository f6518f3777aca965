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


def test_parameters_of_several_dtypes_or_moved_after_construction():
    model, reference = _twin_models()
    gradients = FlatGradients(model.parameters())
    inputs = torch.randn(8, 4)
    model.double()  # after construction: the next zero_ rebuilds the buffer in float64
    reference.double()
    model[2].float()  # and now two dtypes: the plain per-tensor path
    reference[2].float()
    for step in range(2):
        gradients.zero_()
        model[2](model[1](model[0](inputs.double())).float()).sum().backward()
        norm = gradients.clip_norm_(0.1)
        for parameter in reference.parameters():
            parameter.grad = None
        reference[2](reference[1](reference[0](inputs.double())).float()).sum().backward()
        expected = torch.nn.utils.clip_grad_norm_(list(reference.parameters()), 0.1)
        torch.testing.assert_close(norm.double(), expected.double())
        for ours, theirs in zip(model.parameters(), reference.parameters()):
            torch.testing.assert_close(ours.grad, theirs.grad)
    model.float()
    gradients.zero_()
    model(inputs).sum().backward()
    assert gradients._buffer is not None and gradients._buffer.dtype == torch.float32
