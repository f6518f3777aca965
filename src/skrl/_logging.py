"""The ``skrl`` logger: messages read ``[skrl:LEVEL] message``, coloured per level."""

import logging
import sys

_COLOURS = {
    logging.DEBUG: "\x1b[38;20m",
    logging.INFO: "\x1b[38;20m",
    logging.WARNING: "\x1b[33;20m",
    logging.ERROR: "\x1b[31;20m",
    logging.CRITICAL: "\x1b[31;1m",
}
_RESET = "\x1b[0m"
_FORMAT = "[%(name)s:%(levelname)s] %(message)s"


class _ColourFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = logging.Formatter(_FORMAT).format(record)
        return f"{_COLOURS.get(record.levelno, '')}{text}{_RESET}"


logger = logging.getLogger("skrl")
logger.setLevel(logging.DEBUG)
if not logger.handlers:
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setLevel(logging.DEBUG)
    _handler.setFormatter(_ColourFormatter())
    logger.addHandler(_handler)
logger.propagate = False
