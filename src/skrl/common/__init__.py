"""Backend-free core of skrl. Nothing in this package imports torch, jax or flax."""
