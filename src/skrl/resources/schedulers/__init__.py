"""Learning-rate schedulers (``KLAdaptiveLR``) for each backend."""
