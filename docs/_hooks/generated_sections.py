"""MkDocs hook: fill the docs' generated sections, so that a new agent or example needs no docs edit.

Two markers, each alone on a line of a page:

* ``<!-- api-reference: skrl.agents -->`` becomes one mkdocstrings block (``::: module``) per public module of
  that package: every package (a folder with ``__init__.py``) and every plain module outside the ``torch``/``jax``
  folders, skipping ``_``-prefixed names. The source tree is walked; nothing is imported.
* ``<!-- examples -->`` becomes one section per example script of ``examples/registry.py``, with its docstring,
  its command line and its code (included verbatim).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src"
BACKEND_FOLDERS = ("torch", "jax")
API_MARKER = re.compile(r"^<!-- api-reference: (?P<package>[\w.]+) -->$", re.MULTILINE)
EXAMPLES_MARKER = re.compile(r"^<!-- examples -->$", re.MULTILINE)


def _is_public(path: Path) -> bool:
    return not any(part.startswith("_") for part in path.relative_to(SOURCE).with_suffix("").parts if part != "__init__")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _documented(path: Path) -> bool:
    """Packages always; plain modules only outside backend folders (those are re-exported by their package)."""
    if path.name == "__init__.py":
        return "__all__" in path.read_text(encoding="utf-8")
    return path.parent.name not in BACKEND_FOLDERS


def public_modules(package: str) -> list[str]:
    """The public module names under ``package`` (itself included), backend packages in torch, JAX order."""
    folder = SOURCE.joinpath(*package.split("."))
    if not (folder / "__init__.py").is_file():
        raise ValueError(f"Invalid api-reference marker: {package!r} is not a package under {SOURCE}")
    paths = [p for p in folder.rglob("*.py") if _is_public(p) and _documented(p)]
    return sorted({_module_name(p) for p in paths}, key=lambda name: name.replace(".torch", ".0").replace(".jax", ".1"))


def api_reference(package: str) -> str:
    return "\n\n".join(f"::: {name}" for name in public_modules(package))


def _registry() -> Any:
    spec = importlib.util.spec_from_file_location("examples_registry", ROOT / "examples" / "registry.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def examples_section() -> str:
    registry = _registry()
    sections, shown_helpers = [], set()
    for example in registry.find_examples():
        lines = [
            f"## {example.title}", "", example.description, "",
            f"Run it with `python {example.relative_path}` (`--timesteps N` sets the budget in env steps per "
            "environment; the test suite runs it with a tiny one).", "",
            f'```python title="{example.relative_path}"', f'--8<-- "{example.relative_path}"', "```",
        ]
        for helper in sorted(example.path.parent.glob("_*.py")):  # modules the examples beside it import
            relative = helper.relative_to(ROOT).as_posix()
            if relative not in shown_helpers:
                shown_helpers.add(relative)
                lines += ["", f"It imports `{helper.stem}` from beside it:", "",
                          f'```python title="{relative}"', f'--8<-- "{relative}"', "```"]
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    markdown = API_MARKER.sub(lambda match: api_reference(match["package"]), markdown)
    if EXAMPLES_MARKER.search(markdown):
        markdown = EXAMPLES_MARKER.sub(lambda _: examples_section(), markdown)
    return markdown
