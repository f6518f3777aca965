"""The example scripts, found by where they are: ``examples/<agent>/<task>_<backend>.py``.

Adding an example is adding one such file. Its module docstring's first line is its title on the docs'
examples page (the rest is its description), and it must accept ``--timesteps N`` (env steps per environment),
which the test suite sets to ``TINY_TIMESTEPS`` so that every example runs in CI in seconds. Files whose
name starts with ``_`` are not examples.

Example: ``examples/ppo/cartpole_jax.py`` is the PPO example for the JAX backend on the ``cartpole`` task.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent
BACKENDS = ("torch", "jax")
#: ``--timesteps`` of the CI runs: enough for a few updates, a checkpoint and a TensorBoard point
TINY_TIMESTEPS = 200


class ExampleLayoutError(ValueError):
    """A file under ``examples/<agent>/`` is not named ``<task>_<backend>.py`` or has no docstring; rename it
    (or prefix it with ``_`` if it is a helper, not an example) or add the docstring."""


@dataclasses.dataclass(frozen=True)
class Example:
    """One example script and what its place says about it."""

    path: Path
    agent: str
    task: str
    backend: str

    @property
    def docstring(self) -> str:
        return ast.get_docstring(ast.parse(self.path.read_text(encoding="utf-8"))) or ""

    @property
    def title(self) -> str:
        return self.docstring.splitlines()[0]

    @property
    def description(self) -> str:
        return "\n".join(self.docstring.splitlines()[1:]).strip()

    @property
    def relative_path(self) -> str:
        """The path from the repository root, e.g. ``examples/ppo/cartpole_jax.py``."""
        try:
            return self.path.relative_to(EXAMPLES_DIR.parent).as_posix()
        except ValueError:  # an example tree elsewhere (tests)
            return self.path.as_posix()

    def command(self, timesteps: int | None = None) -> list[str]:
        """The command line that runs the example (with the current interpreter)."""
        extra = [] if timesteps is None else ["--timesteps", str(timesteps)]
        return [sys.executable, str(self.path), *extra]


def _example_of(path: Path) -> Example:
    task, _, backend = path.stem.rpartition("_")
    if not task or backend not in BACKENDS:
        raise ExampleLayoutError(f"Invalid example file name {path.name!r} in {path.parent}: expected "
                                 f"'<task>_<backend>.py' with a backend in {BACKENDS}")
    example = Example(path, path.parent.name, task, backend)
    if not example.docstring:
        raise ExampleLayoutError(f"The example {example.relative_path} has no module docstring (its title)")
    return example


def find_examples(root: Path = EXAMPLES_DIR) -> list[Example]:
    """Every example under ``root``, sorted by agent, task, then backend (torch before JAX)."""
    paths = [p for p in root.glob("*/*.py") if not p.name.startswith("_") and not p.parent.name.startswith("_")]
    examples = [_example_of(path) for path in paths]
    return sorted(examples, key=lambda e: (e.agent, e.task, BACKENDS.index(e.backend)))
