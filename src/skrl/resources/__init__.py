"""Resources used by agents: preprocessors, learning-rate schedulers and (JAX) optimizers."""
