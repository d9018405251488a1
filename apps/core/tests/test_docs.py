"""The documentation site (docs/, mkdocs.yml): it builds with --strict, nothing in docs/ is left out
of the nav, the README stays a newcomer's page, and the Configuration page names every variable of
.env.example (docs/development.md, Documentation)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
README_LIMIT_BYTES = 12 * 1024


def _mkdocs() -> str | None:
    """The mkdocs next to this interpreter (the project's .venv), else one on PATH."""
    candidate = Path(sys.executable).with_name("mkdocs")
    if candidate.exists():
        return str(candidate)
    return shutil.which("mkdocs")


def _nav_pages(nav) -> list[str]:
    """Every page path named in mkdocs.yml's nav, at any depth."""
    pages: list[str] = []
    for item in nav:
        if isinstance(item, str):
            pages.append(item)
        elif isinstance(item, dict):
            for value in item.values():
                pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


def _mkdocs_config() -> dict:
    # mkdocs.yml uses no custom YAML tags, so the safe loader reads it whole.
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def test_the_readme_stays_under_12_kb_and_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_bytes()
    assert len(readme) < README_LIMIT_BYTES, f"README.md is {len(readme)} bytes; move detail into docs/"
    first_block = re.search(r"```bash\n(.*?)```", readme.decode("utf-8"), re.DOTALL)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]
    assert commands[:2] == ["make run", "make test"]


def test_every_file_in_docs_is_in_the_nav():
    config = _mkdocs_config()
    nav = set(_nav_pages(config["nav"]))
    files = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*") if path.is_file()}
    assert files, "docs/ is empty"
    assert files - nav == set(), "pages missing from mkdocs.yml's nav"
    assert nav - files == set(), "nav entries without a page"


def test_mkdocs_validation_turns_omissions_and_broken_links_into_warnings():
    """--strict fails on warnings only: these settings are what make a page left out of the nav, a
    broken link or a missing anchor fail the build."""
    validation = _mkdocs_config()["validation"]
    for key in ("omitted_files", "absolute_links", "unrecognized_links", "anchors"):
        assert validation[key] == "warn", key
    assert validation["nav"]["omitted_files"] == "warn"
    assert validation["nav"]["not_found"] == "warn"
    assert validation["links"]["not_found"] == "warn"


def test_the_configuration_page_names_every_variable_of_env_example():
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert names, ".env.example lists no variables"
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = sorted(name for name in names if f"`{name}`" not in page)
    assert missing == [], "variables of .env.example missing from docs/configuration.md"


def _build(site_dir: Path, config_file: Path) -> subprocess.CompletedProcess:
    mkdocs = _mkdocs()
    if mkdocs is None:
        pytest.skip("mkdocs is not installed (requirements-dev.txt: mkdocs-material)")
    return subprocess.run(
        [mkdocs, "build", "--strict", "--config-file", str(config_file), "--site-dir", str(site_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )


def test_the_site_builds_with_strict(tmp_path):
    result = _build(tmp_path / "site", ROOT / "mkdocs.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "api" / "index.html").exists()


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ("[a page that does not exist](nowhere.md)", "nowhere.md"),
        ("[a missing anchor](api.md#no-such-section)", "no-such-section"),
    ],
)
def test_a_broken_link_or_anchor_fails_the_strict_build(tmp_path, broken, expected):
    """The same build on a copy of docs/ with one bad link added to the index: it must fail."""
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    index = docs / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + f"\n{broken}\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), encoding="utf-8")
    result = _build(tmp_path / "site", config)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr


def test_a_page_left_out_of_the_nav_fails_the_strict_build(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    (docs / "orphan.md").write_text("# Orphan\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), encoding="utf-8")
    result = _build(tmp_path / "site", config)
    assert result.returncode != 0
    assert "orphan.md" in result.stdout + result.stderr
