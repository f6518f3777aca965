"""Instantiated torch networks skip ``nn.Module.__call__`` per layer, yet keep Sequential's outputs and hooks."""

import pytest

torch = pytest.importorskip("torch")

from skrl.torch.model_instantiators import LayerChain  # noqa: E402


def _chain_and_reference() -> tuple:
    torch.manual_seed(0)
    layers = [torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3), torch.nn.ELU()]
    chain = LayerChain(*layers)
    reference = torch.nn.Sequential(*layers)
    return chain, reference


def test_same_outputs_gradients_state_dict_and_printout_as_sequential():
    chain, reference = _chain_and_reference()
    inputs = torch.randn(5, 4)
    torch.testing.assert_close(chain(inputs), reference(inputs))
    chain(inputs).sum().backward()
    first = [p.grad.clone() for p in chain.parameters()]
    chain.zero_grad()
    reference(inputs).sum().backward()
    for expected, parameter in zip(first, reference.parameters()):
        torch.testing.assert_close(parameter.grad, expected)
    assert list(chain.state_dict()) == list(reference.state_dict())
    assert repr(chain) == repr(reference)


def test_layer_and_global_forward_hooks_still_run():
    chain, _ = _chain_and_reference()
    seen = []
    handle = chain[1].register_forward_hook(lambda module, args, output: seen.append(("layer", output.shape)))
    chain(torch.randn(2, 4))
    handle.remove()
    global_handle = torch.nn.modules.module.register_module_forward_hook(
        lambda module, args, output: seen.append(("global", type(module).__name__)))
    try:
        chain(torch.randn(2, 4))
    finally:
        global_handle.remove()
    assert seen[0] == ("layer", torch.Size([2, 16]))
    assert ("global", "Linear") in seen and ("global", "ELU") in seen
    seen.clear()
    chain(torch.randn(2, 4))  # hooks removed: the direct path again, and nothing recorded
    assert seen == []
