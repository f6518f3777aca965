"""Code blocks of the docs pages: find them, group them into runnable sessions and run each session.

Rules the pages follow (and the tests enforce):

* Every fenced block names its language. ``python`` and ``bash`` blocks are code and run; ``text``, ``yaml``,
  ``json`` and ``toml`` blocks are output, listings or file contents and do not run.
* A block that must not run is preceded by ``<!-- not-run: <why> -->`` (e.g. it installs packages or uploads
  to the Hugging Face Hub); a block made of ``--8<-- "path"`` lines includes files verbatim (the examples,
  which ``test_examples.py`` runs) and must name existing files.
* Blocks inside Material content tabs titled ``PyTorch`` or ``JAX`` belong to that backend. A page with such
  tabs runs once per backend: its untabbed blocks plus that backend's blocks, in page order, in one Python
  namespace (bash blocks run in the same working directory).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RUN_LANGUAGES = ("python", "bash")
NOT_CODE_LANGUAGES = ("text", "yaml", "json", "toml")
TAB_BACKENDS = {"PyTorch": "torch", "JAX": "jax"}
#: files the snippets read, copied into each session's working directory (written by the real libraries)
FIXTURE_DIRS = (ROOT / "tests" / "fixtures" / "migration", ROOT / "tests" / "fixtures" / "skrl-1.4.3")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_TAB = re.compile(r'^(?P<indent>[ \t]*)===\+? "(?P<title>[^"]+)"')
_NOT_RUN = re.compile(r"^\s*<!-- not-run:(?P<reason>.*)-->\s*$")
_INCLUDE = re.compile(r'^\s*--8<-- "(?P<path>[^"]+)"\s*$')


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int
    language: str
    code: str
    tab: Optional[str] = None
    not_run_reason: Optional[str] = None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def includes(self) -> list[str]:
        """The files a ``--8<--`` block includes (empty for ordinary code)."""
        lines = [line for line in self.code.splitlines() if line.strip()]
        matches = [_INCLUDE.match(line) for line in lines]
        return [m["path"] for m in matches if m] if lines and all(matches) else []

    @property
    def backend(self) -> Optional[str]:
        return TAB_BACKENDS.get(self.tab) if self.tab else None

    @property
    def runs(self) -> bool:
        return self.language in RUN_LANGUAGES and self.not_run_reason is None and not self.includes


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _current_tab(tabs: list, line: str) -> None:
    """Close the tabs that ``line`` (non-blank) is not inside of."""
    while tabs and _indent(line) <= tabs[-1][1]:
        tabs.pop()


def parse_blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page``, with its tab and ``not-run`` reason."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, tabs, previous, i = [], [], "", 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if line.strip():
            _current_tab(tabs, line)
        tab = _TAB.match(line)
        if tab:
            tabs.append((tab["title"], len(tab["indent"])))
        if fence is None:
            previous = line if line.strip() else previous
            i += 1
            continue
        start, indent, marker = i, len(fence["indent"]), fence["fence"]
        language = re.split(r"[\s{]", fence["info"].strip(), maxsplit=1)[0]
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(marker):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        not_run = _NOT_RUN.match(previous)
        blocks.append(Block(page, start + 1, language, "\n".join(body) + "\n", tabs[-1][0] if tabs else None,
                            not_run["reason"].strip() if not_run else None))
        previous, i = "", i + 1
    return blocks


def pages() -> list[Path]:
    """The docs pages and the README (the ``_``-prefixed folders hold build hooks, not pages)."""
    found = [p for p in DOCS.rglob("*.md") if not any(part.startswith("_") for part in p.relative_to(DOCS).parts)]
    return sorted(found) + [ROOT / "README.md"]


def sessions(page: Path) -> dict[str, list[Block]]:
    """``{backend or "any": blocks to run in order}`` for ``page`` (pages without any code give nothing)."""
    blocks = [block for block in parse_blocks(page) if block.runs]
    backends = sorted({block.backend for block in blocks if block.backend}, key=list(TAB_BACKENDS.values()).index)
    if not blocks:
        return {}
    if not backends:
        return {"any": blocks}
    return {backend: [b for b in blocks if b.backend in (None, backend)] for backend in backends}


_DRIVER = '''\
import subprocess
import sys

namespace = {"__name__": "__main__"}
for language, where, code in BLOCKS:
    print(f"----- {where} ({language})", flush=True)
    if language == "python":
        exec(compile(code, where, "exec"), namespace)
    else:
        subprocess.run(["bash", "-euo", "pipefail", "-c", code], check=True)
    sys.stdout.flush()
'''


def run_session(blocks: list[Block], workdir: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``blocks`` in order in a fresh interpreter, in ``workdir`` (with the fixture files copied there)."""
    import shutil

    for directory in FIXTURE_DIRS:
        for path in directory.iterdir():
            shutil.copy(path, workdir / path.name)
    driver = workdir / "_doc_session.py"
    payload = [(b.language, b.where, b.code) for b in blocks]
    driver.write_text(f"BLOCKS = {payload!r}\n" + _DRIVER, encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg", "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1",
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    return subprocess.run([sys.executable, str(driver)], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=timeout)
