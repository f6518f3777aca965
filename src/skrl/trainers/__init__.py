"""Trainers: the loops that connect environments and agents, for each backend."""
