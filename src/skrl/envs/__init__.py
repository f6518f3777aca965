"""Environment loaders and wrappers."""
