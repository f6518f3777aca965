"""Errors raised by skrl for bad user input or bad files. Each says what was wrong and what is allowed."""


class UnknownConfigKeyError(KeyError):
    """A configuration dict holds a key the agent does not know (often a typo); the message suggests the closest key."""

    def __str__(self) -> str:  # KeyError quotes its argument; show the message as written
        return str(self.args[0]) if self.args else ""


class InvalidConfigValueError(ValueError):
    """A configuration value is out of range or of the wrong type; the message names the key and what is allowed."""


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the live modules: lists missing and unexpected keys and every shape/dtype mismatch."""


class CheckpointFileError(ValueError):
    """A checkpoint file is missing, corrupt or truncated, or of an unknown format."""


class UnsafeCheckpointError(CheckpointFileError):
    """A checkpoint would need to run code to load (e.g. a pickle with arbitrary globals); it is refused."""
