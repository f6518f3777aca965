"""JAX ``Adam``: an optax transformation and its state in an immutable pytree, stepped with gradients.

Outside jit, ``opt = opt.step(grad, model)`` updates ``model.state_dict`` and returns the new optimizer (reassign it).
Inside a larger jitted function, use the pure form (the optimizer is a pytree; its transformation is static)::

    params, opt = opt.apply_gradients(grad, params, lr=None)
"""

from __future__ import annotations

import numbers
from typing import Any, Optional

import flax
import jax
import optax


class Optimizer(flax.struct.PyTreeNode):
    """An optax transformation (static) with its state (the only pytree leaf, and the only part serialized).

    ``base_lr`` is the learning rate built into the transformation (``scale=True``), None when it returns
    unscaled Adam directions (``scale=False``).
    """

    transformation: optax.GradientTransformation = flax.struct.field(pytree_node=False)
    state: optax.OptState = flax.struct.field(pytree_node=True)
    base_lr: Optional[float] = flax.struct.field(pytree_node=False, default=None)

    def apply_gradients(self, grad: Any, params: Any, lr: Optional[Any] = None) -> tuple[Any, "Optimizer"]:
        """Pure update: return ``(new_params, new_optimizer)``.

        ``lr`` overrides the learning rate: unscaled directions are multiplied by ``-lr``; with ``scale=True`` the
        built-in rate is replaced by ``lr`` (skrl 1.4.3 multiplied by ``-lr`` there too, which reversed the step).
        """
        updates, state = self.transformation.update(grad, self.state, params)
        if lr is not None:
            factor = -lr if self.base_lr is None else lr / self.base_lr
            updates = jax.tree_util.tree_map(lambda update: update * factor, updates)
        return optax.apply_updates(params, updates), self.replace(state=state)

    def step(self, grad: Any, model: Any, lr: Optional[Any] = None) -> "Optimizer":
        """Apply ``grad`` to ``model.state_dict.params`` (jitted), store the new params in the model, return the new optimizer."""
        params, optimizer = _apply_gradients(self, grad, model.state_dict.params, lr)
        model.state_dict = model.state_dict.replace(params=params)
        return optimizer


@jax.jit
def _apply_gradients(optimizer: Optimizer, grad: Any, params: Any, lr: Optional[Any]) -> tuple[Any, Optimizer]:
    return optimizer.apply_gradients(grad, params, lr)


class Adam:
    """Build an Adam ``Optimizer`` for ``model`` (calling ``Adam(...)`` returns an ``Optimizer``, not an ``Adam``)."""

    def __new__(cls, model: Any, lr: float = 1e-3, grad_norm_clip: float = 0, scale: bool = True) -> Optimizer:
        """The ``Optimizer``: Adam (with global-norm clipping first when ``grad_norm_clip > 0``) on ``model``'s params.

        Args:
            model: a JAX model whose ``state_dict.params`` exist (``init_state_dict`` was called).
            lr: learning rate built into the transformation when ``scale`` is True.
            grad_norm_clip: clip the gradients to this global norm first; 0 disables clipping.
            scale: when False the transformation returns raw Adam directions and ``step`` must be given ``lr``
                (agents do this when a learning-rate scheduler is configured).
        """
        if not isinstance(lr, numbers.Real) or isinstance(lr, bool) or lr <= 0:
            raise ValueError(f"Invalid `lr`: expected a positive float. Received: lr={lr!r}")
        if not isinstance(grad_norm_clip, numbers.Real) or grad_norm_clip < 0:
            raise ValueError(f"Invalid `grad_norm_clip`: expected a non-negative float. Received: grad_norm_clip={grad_norm_clip!r}")
        transformation = optax.adam(lr) if scale else optax.scale_by_adam()
        if grad_norm_clip > 0:
            transformation = optax.chain(optax.clip_by_global_norm(grad_norm_clip), transformation)
        return Optimizer(
            transformation=transformation,
            state=transformation.init(model.state_dict.params),
            base_lr=float(lr) if scale else None,
        )
