"""torch <-> JAX checkpoint conversion, backend-free: it works on nested dicts of NumPy arrays.

Supported modules: models built with the model instantiators and the standard mixins (``<name>_container.<i>.weight``
<-> ``params/<name>_container/layers_<i>/kernel``, transposed; ``log_std_parameter``; shared-model heads
``<role>_layer``) and ``RunningStandardScaler`` statistics (torch float64, count ``()`` <-> JAX float32, count
``(1,)``). Optimizer states have different layouts per backend and are not converted (a converted checkpoint
loads for evaluation or fine-tuning with fresh optimizers).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np

from skrl.common.errors import CheckpointFileError

SCALER_KEYS = {"running_mean", "running_variance", "current_count"}
_TORCH_PARAM = re.compile(r"^(?P<module>[A-Za-z_]\w*?)(?:\.(?P<index>\d+))?\.(?P<kind>weight|bias)$")


def _kernel_from_weight(weight: np.ndarray) -> np.ndarray:
    if weight.ndim == 4:  # conv: torch (out, in, kh, kw) -> flax (kh, kw, in, out)
        return weight.transpose(2, 3, 1, 0)
    return weight.T


def _weight_from_kernel(kernel: np.ndarray) -> np.ndarray:
    if kernel.ndim == 4:
        return kernel.transpose(3, 2, 0, 1)
    return kernel.T


def kind_of(state: Any) -> str:
    """``"model"``, ``"scaler"``, ``"optimizer"`` or ``"other"`` for a module state of either backend."""
    if not isinstance(state, Mapping):
        return "other"
    keys = set(state)
    if keys == SCALER_KEYS:
        return "scaler"
    if "param_groups" in keys or keys == {"state"}:
        return "optimizer"
    if keys == {"params"} or all(_TORCH_PARAM.match(str(k)) or k == "log_std_parameter" for k in keys):
        return "model"
    return "other"


def torch_model_to_flax(state: Mapping[str, np.ndarray]) -> dict:
    params: dict = {}
    for name, value in state.items():
        value = np.asarray(value)
        if name == "log_std_parameter":
            params[name] = value.astype(np.float32)
            continue
        match = _TORCH_PARAM.match(name)
        if match is None:
            raise CheckpointFileError(f"Cannot convert parameter {name!r}: expected '<container>.<i>.weight|bias', "
                                      "'<role>_layer.weight|bias' or 'log_std_parameter' (model-instantiator layout)")
        module, index, kind = match["module"], match["index"], match["kind"]
        node = params.setdefault(module, {})
        if index is not None:
            node = node.setdefault(f"layers_{index}", {})
        node["kernel" if kind == "weight" else "bias"] = _kernel_from_weight(value) if kind == "weight" else value
    return {"params": params}


def flax_model_to_torch(state: Mapping[str, Any]) -> dict:
    params = state.get("params", state)
    out: dict = {}
    if "log_std_parameter" in params:
        out["log_std_parameter"] = np.asarray(params["log_std_parameter"])
    for module, node in params.items():
        if module == "log_std_parameter":
            continue
        layers = {k: v for k, v in node.items() if k.startswith("layers_")}
        entries = sorted(layers.items(), key=lambda kv: int(kv[0].split("_")[1])) if layers else [(None, node)]
        for layer, leaf in entries:
            prefix = module if layer is None else f"{module}.{layer.split('_')[1]}"
            out[f"{prefix}.weight"] = _weight_from_kernel(np.asarray(leaf["kernel"]))
            if "bias" in leaf:
                out[f"{prefix}.bias"] = np.asarray(leaf["bias"])
    return out


def scaler_to(backend: str, state: Mapping[str, Any]) -> dict:
    dtype, count_shape = (np.float64, ()) if backend == "torch" else (np.float32, (1,))
    return {"running_mean": np.asarray(state["running_mean"], dtype),
            "running_variance": np.asarray(state["running_variance"], dtype),
            "current_count": np.asarray(state["current_count"], dtype).reshape(count_shape)}


def convert_modules(states: Mapping[str, Any], to: str) -> tuple[dict, list[str]]:
    """Convert every model and scaler of a grouped checkpoint to the ``to`` backend; returns (states, skipped names)."""
    if to not in ("torch", "jax"):
        raise ValueError(f"Invalid `to`: expected 'torch' or 'jax'. Received: to={to!r}")
    converted, skipped = {}, []
    for name, state in states.items():
        kind = kind_of(state)
        if kind == "other" and name != "agent_state" and isinstance(state, Mapping):
            raise CheckpointFileError(f"Cannot convert module {name!r}: its entries {sorted(map(str, state))[:8]} are not "
                                      "in the model-instantiator layout ('<container>.<i>.weight|bias', "
                                      "'log_std_parameter') nor RunningStandardScaler statistics")
        if kind == "model":
            converted[name] = torch_model_to_flax(state) if to == "jax" else flax_model_to_torch(state)
        elif kind == "scaler":
            converted[name] = scaler_to(to, state)
        else:
            skipped.append(name)
    return converted, skipped
