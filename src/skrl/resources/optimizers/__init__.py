"""Optimizers (JAX only: torch agents use ``torch.optim`` directly)."""
