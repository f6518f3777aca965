"""Multi-process launch helpers (``python -m skrl.utils.distributed.jax``; torch runs use ``torchrun``)."""
