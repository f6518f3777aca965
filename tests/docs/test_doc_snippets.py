"""Every code block of the docs pages and the README runs as written (or is explicitly marked, with a reason)."""

from __future__ import annotations

import pytest
from doc_snippets import (
    NOT_CODE_LANGUAGES,
    ROOT,
    RUN_LANGUAGES,
    TAB_BACKENDS,
    pages,
    parse_blocks,
    run_session,
    sessions,
)

SESSIONS = [(page, backend) for page in pages() for backend in sessions(page)]


def _id(entry: tuple) -> str:
    page, backend = entry
    return f"{page.relative_to(ROOT)}[{backend}]"


@pytest.mark.parametrize("page, backend", SESSIONS, ids=[_id(s) for s in SESSIONS])
def test_page_code_runs(page, backend, tmp_path):
    result = run_session(sessions(page)[backend], tmp_path)
    assert result.returncode == 0, f"{_id((page, backend))} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_block_is_code_that_runs_or_is_marked(page):
    for block in parse_blocks(page):
        assert block.language in RUN_LANGUAGES + NOT_CODE_LANGUAGES, (
            f"{block.where}: fenced block with language {block.language!r}; expected one of "
            f"{RUN_LANGUAGES + NOT_CODE_LANGUAGES} (python/bash blocks run, the others are not code)")
        if block.not_run_reason is not None:
            assert block.language in RUN_LANGUAGES, f"{block.where}: a not-run marker on a {block.language} block"
            assert len(block.not_run_reason) >= 20, f"{block.where}: say why the block does not run"
        for path in block.includes:
            assert (ROOT / path).is_file(), f"{block.where}: includes {path!r}, which does not exist"
        if block.tab is not None and block.runs:
            assert block.tab in TAB_BACKENDS, f"{block.where}: code in tab {block.tab!r}; tabs are {list(TAB_BACKENDS)}"


def test_the_pages_hold_code():
    """Guards the parser: the getting-started page runs on both backends, the README once."""
    assert set(sessions(ROOT / "docs" / "getting-started.md")) == {"torch", "jax"}
    assert set(sessions(ROOT / "README.md")) == {"any"}
