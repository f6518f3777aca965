"""Reading scalars back from TensorBoard event files with tensorboard's own reader (no TensorFlow needed)."""

from __future__ import annotations

import glob
import os
from typing import Iterable, Iterator, Optional, Union

from skrl._logging import logger

#: ``{tag: [[step, value], ...]}``, in file order
ScalarSeries = dict[str, list[list[float]]]


def _event_accumulator_class() -> type:
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError as e:
        raise ImportError("Reading TensorBoard event files needs tensorboard: pip install 'skrl[plot]' "
                          "(or pip install tensorboard)") from e
    return EventAccumulator


def read_scalars(path: str, tags: Optional[Iterable[str]] = None) -> ScalarSeries:
    """Every scalar of one event file (or of every event file in a directory), optionally only ``tags``.

    Example: ``read_scalars("runs/my_run")["Reward / Total reward (mean)"] == [[1000, 12.5], [2000, 20.1], ...]``.
    """
    accumulator = _event_accumulator_class()(path, size_guidance={"scalars": 0})
    accumulator.Reload()
    wanted = None if tags is None else set(tags)
    return {tag: [[event.step, event.value] for event in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"] if wanted is None or tag in wanted}


class TensorboardFileIterator:
    """Iterate over TensorBoard event files, yielding ``(name of the file's directory, {tag: [[step, value], ...]})``.

    Args:
        pathname: a ``glob`` pattern of event files, e.g. ``"runs/*/events.out.tfevents.*"`` (matches are sorted).
        tags: the tag (str) or tags (list) to read, e.g. ``"Reward / Total reward (mean)"``.

    A file that cannot be read is logged as a warning and yields an empty dict.
    """

    def __init__(self, pathname: str, tags: Union[str, list[str]]) -> None:
        self.file_paths = sorted(glob.glob(pathname))
        self.tags = [tags] if isinstance(tags, str) else list(tags)
        self._index = 0

    def __iter__(self) -> Iterator[tuple[str, ScalarSeries]]:
        return self

    def __len__(self) -> int:
        return len(self.file_paths)

    def __next__(self) -> tuple[str, ScalarSeries]:
        if self._index >= len(self.file_paths):
            raise StopIteration
        path = self.file_paths[self._index]
        self._index += 1
        name = os.path.basename(os.path.dirname(os.path.abspath(path)))
        _event_accumulator_class()  # a missing package is an error, not a warning per file
        try:
            return name, read_scalars(path, self.tags)
        except Exception as e:  # a corrupt or truncated file must not end the iteration
            logger.warning(f"Cannot read the TensorBoard event file {path!r}: {e}")
            return name, {}
