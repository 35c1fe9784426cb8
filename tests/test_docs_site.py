"""The documentation: the MkDocs site builds in strict mode (a broken link or a missing page fails it) and
loads nothing from another site; README.md stays a short front page whose links all lead somewhere and whose
command table names every command with its page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from doc_examples import ROOT
from seqlab.cli import build_parser

# a tag that makes the browser fetch: a script, a stylesheet or icon, an image, a frame, media
FETCHING = re.compile(r"<(?:script|link|img|iframe|source|audio|video|embed)\b[^>]*?\b(?:src|href)="
                      r"[\"']?((?:https?:)?//[^\"' >]+)", re.I)
CSS_URL = re.compile(r"url\(\s*[\"']?((?:https?:)?//[^)\"']+)", re.I)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    """`mkdocs build --strict` of `config` into `site`, as `make docs` runs it."""

    try:
        import mkdocs  # noqa: F401
    except ImportError:
        pytest.fail("mkdocs is missing: `make test` installs it (pip install -e '.[docs]')")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
                          capture_output=True, text=True, cwd=config.parent, timeout=300,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = build(ROOT / "mkdocs.yml", out)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_the_site_has_every_page_and_the_api_reference(site):
    pages = {p.name for p in site.glob("*.html")}
    assert {"index.html", "course.html", "dinosaurs.html", "poems.html", "jazz.html", "playground.html",
            "explorers.html", "training.html", "speed.html", "engine.html", "api.html"} <= pages
    api = (site / "api.html").read_text(encoding="utf-8")
    # generated from the docstrings: the LSTM's own words and its backward's signature
    assert "x (T, B, D) or one-hot ids (T, B), state (h0, c0) or None" in api
    assert 'id="seqlab.engine.lstm.LSTM.backward"' in api
    assert (site / "cells.png").read_bytes() == (ROOT / "docs" / "cells.png").read_bytes()


def test_the_built_site_loads_nothing_from_another_site(site):
    # what Material writes when web fonts are on, and a stylesheet's import: both would be caught
    assert FETCHING.findall('<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>')
    assert CSS_URL.findall("@font-face{src:url(https://fonts.gstatic.com/s/roboto.woff2)}")
    fetched = []
    for path in site.rglob("*"):
        if path.suffix in (".html", ".css"):
            text = path.read_text(encoding="utf-8", errors="replace")
            fetched += [f"{path.relative_to(site)}: {url}" for url in FETCHING.findall(text) + CSS_URL.findall(text)]
    assert fetched == []
    assert "fonts.googleapis" not in (site / "index.html").read_text(encoding="utf-8")


def test_a_broken_link_a_missing_page_or_a_page_outside_the_nav_fails_the_build(tmp_path):
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "docs" / "engine.md").unlink()          # in the nav, and linked from other pages
    index = tmp_path / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\nSee [nowhere](nowhere.md).\n", encoding="utf-8")
    (tmp_path / "docs" / "stray.md").write_text("# A page no one can reach\n", encoding="utf-8")
    done = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    log = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Aborted with" in log and "in strict mode" in log
    assert re.search(r"'engine\.md'.*nav.*not found", log), log
    assert re.search(r"index\.md.*'nowhere\.md'", log), log
    assert re.search(r"not included in the \"nav\" configuration:\s*- stray\.md", log), log


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_a_short_front_page_that_starts_with_the_set_up():
    text = readme()
    assert len(text.splitlines()) <= 200
    first_block = text.split("```")[1]
    assert first_block.split("\n")[1].startswith("make demo") and "make test" in first_block.split("\n")[2]
    assert "![" in text   # one picture
    assert not re.search(r"\b20\d\d\b.*\|", text), "dated tables belong in docs/speed.md"


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings as GitHub makes them (lower case, punctuation dropped, spaces to
    hyphens), for the links that are read on GitHub; mkdocs checks the site's own anchors when it builds."""

    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.*)$", text, re.M)}


def test_every_local_link_of_the_readme_and_the_pages_leads_to_a_file_and_heading():
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            path, _, anchor = target.partition("#")
            page = doc.parent / path if path else doc
            if re.match(r"[a-z]+:", path):
                continue
            if not page.exists() or (anchor and page.suffix == ".md" and anchor not in anchors(page)):
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert broken == []


def commands() -> list[str]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return sorted(sub.choices)


@pytest.mark.parametrize("doc, link", [("README.md", "docs/"), ("docs/index.md", "")])
def test_the_command_table_has_every_command_and_links_its_page(doc, link):
    rows = [line for line in (ROOT / doc).read_text(encoding="utf-8").splitlines() if line.startswith("| `seqlab ")]
    missing = []
    for name in commands():
        row = next((r for r in rows if r.startswith(f"| `seqlab {name}`") or r.startswith(f"| `seqlab {name} ")),
                   None)
        if row is None or not re.search(r"\]\(" + re.escape(link) + r"[\w-]+\.md", row):
            missing.append(name)
    assert missing == [], f"{doc}: commands without a row linking their page"
