"""torch multi-agent algorithms. ``MultiAgent`` is the base class; algorithms live in sub-packages (``ippo``, ``mappo``)."""

from skrl.torch.multi_agent_base import MultiAgent

__all__ = ["MultiAgent"]
