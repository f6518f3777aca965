"""Input preprocessors (``RunningStandardScaler``) for each backend."""
