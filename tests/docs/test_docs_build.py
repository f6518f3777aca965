"""The docs site builds with ``mkdocs build --strict`` (warnings are errors) and shows what the pages promise."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _require_mkdocs() -> None:
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError as e:
        raise ImportError("Building the docs needs MkDocs, Material and mkdocstrings: "
                          "pip install -c constraints.txt -e '.[docs]'") from e


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    _require_mkdocs()
    site_dir = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return site_dir


def _text(site: Path, page: str) -> str:
    raw = (site / page / "index.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", raw)))


def test_api_reference_lists_every_agent_package_on_both_backends(site):
    text = _text(site, "api/agents")
    packages = sorted(p.name for p in (ROOT / "src" / "skrl" / "agents" / "torch").iterdir()
                      if (p / "__init__.py").is_file() and not p.name.startswith("_"))
    assert "ppo" in packages
    for backend in ("torch", "jax"):
        for package in packages:
            assert f"skrl.agents.{backend}.{package}" in text, (backend, package)
    assert "PPO_DEFAULT_CONFIG" in text and "def load" not in text and "Load a grouped checkpoint" in text


def test_api_reference_lists_the_multi_agent_algorithms_on_both_backends(site):
    text = _text(site, "api/multi_agents")
    for backend in ("torch", "jax"):
        for package in ("ippo", "mappo"):
            assert f"skrl.multi_agents.{backend}.{package}" in text, (backend, package)
    assert "IPPO_DEFAULT_CONFIG" in text and "MAPPO_DEFAULT_CONFIG" in text


def test_examples_page_shows_every_example_verbatim(site):
    text = _text(site, "examples")
    for path in sorted((ROOT / "examples").glob("*/*_*.py")):
        assert path.relative_to(ROOT).as_posix() in text
        assert "parser.add_argument(\"--timesteps\"" in text


def test_pages_are_built(site):
    for page in ("getting-started", "saving-loading-logging", "migrating", "api/utils"):
        assert (site / page / "index.html").is_file(), page
    assert "Reward / Total reward (mean)" in _text(site, "saving-loading-logging")
