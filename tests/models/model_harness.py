"""Backend harness for the model tests: one object per backend with the few operations whose spelling differs.

Test bodies are written once and take ``harness(backend)``; NumPy is the common currency.
"""

from __future__ import annotations

import importlib

import gymnasium
import numpy as np


class _Harness:
    name: str

    @property
    def models(self):
        return importlib.import_module(f"skrl.models.{self.name}")

    @property
    def instantiators(self):
        return importlib.import_module(f"skrl.utils.model_instantiators.{self.name}")

    def act(self, model, inputs: dict, role: str = "") -> tuple:
        """``model.act`` on NumPy inputs; every array of the result comes back as NumPy (None stays None)."""
        actions, log_prob, outputs = model.act({k: self.array(v) for k, v in inputs.items()}, role)
        return self.numpy(actions), None if log_prob is None else self.numpy(log_prob), {
            k: self.numpy(v) for k, v in outputs.items() if hasattr(v, "shape")
        }


class TorchHarness(_Harness):
    name = "torch"

    def array(self, x):
        import torch

        return torch.as_tensor(np.asarray(x))

    def numpy(self, x) -> np.ndarray:
        return x.detach().cpu().numpy()

    def params(self, model) -> dict:
        """Flat ``{name: array}`` of the model's parameters."""
        return {k: self.numpy(v).copy() for k, v in model.state_dict().items()}


class JaxHarness(_Harness):
    name = "jax"

    def array(self, x):
        return np.asarray(x)

    def numpy(self, x) -> np.ndarray:
        return np.asarray(x)

    def params(self, model) -> dict:
        from skrl.common.state_trees import flatten_tree

        return {k: np.asarray(v) for k, v in flatten_tree(model.state_dict.params, separator="/").items()}


HARNESSES = {"torch": TorchHarness(), "jax": JaxHarness()}


def harness(backend: str) -> _Harness:
    return HARNESSES[backend]


def spaces(kind: str):
    """Observation Box(4) and an action space of the given kind."""
    observation_space = gymnasium.spaces.Box(-1, 1, (4,), dtype=np.float32)
    action_space = {
        "box": gymnasium.spaces.Box(-1, 1, (3,), dtype=np.float32),
        "discrete": gymnasium.spaces.Discrete(4),
        "multidiscrete": gymnasium.spaces.MultiDiscrete([2, 3]),
    }[kind]
    return observation_space, action_space


def torch_to_flax(state_dict: dict) -> dict:
    """Map instantiator torch parameters (``net_container.0.weight``) to Flax ones (``net_container/layers_0/kernel``)."""
    params: dict = {}
    for key, value in state_dict.items():
        value = value.detach().cpu().numpy()
        parts = key.split(".")
        if len(parts) == 1:
            params[parts[0]] = value
            continue
        container, index, kind = parts
        leaf = {"weight": ("kernel", value.T), "bias": ("bias", value)}[kind]
        params.setdefault(container, {}).setdefault(f"layers_{index}", {})[leaf[0]] = leaf[1]
    return {"params": params}
