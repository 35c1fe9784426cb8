"""tools/chromium.sh, which `make test` runs before the suite: it provides the browser the playground's tests
drive, or stops with one line saying how. Run here on a PATH of its own, with stand-ins for playwright."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "chromium.sh"


@pytest.fixture
def bare_path(tmp_path):
    """A PATH with only what the script needs besides a browser or apt-get: sh, grep, id."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in ("sh", "grep", "id"):
        (bin_ / tool).symlink_to(shutil.which(tool))
    return bin_


def stand_in(tmp_path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def run(bin_: Path, playwright: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", str(SCRIPT)], env={"PATH": str(bin_), "PLAYWRIGHT": str(playwright)},
                          capture_output=True, text=True, timeout=30)


def test_a_chromium_on_the_path_is_all_it_needs(bare_path, tmp_path):
    stand_in(bare_path, "chromium", "exit 0")
    done = run(bare_path, tmp_path / "no-playwright")
    assert done.returncode == 0 and done.stdout == done.stderr == ""


def test_without_apt_get_it_asks_playwright_for_its_own_chromium(bare_path, tmp_path):
    log = tmp_path / "asked"
    playwright = stand_in(tmp_path, "playwright", f'echo "$@" >> {log}; [ "$1 $2" = "install chromium" ]')
    done = run(bare_path, playwright)
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines() == ["install --list", "install chromium"]
    assert "no apt-get" in done.stdout


def test_when_nothing_can_provide_it_one_line_says_how(bare_path, tmp_path):
    for playwright in (stand_in(tmp_path, "failing", "exit 1"), tmp_path / "absent"):
        done = run(bare_path, playwright)
        assert done.returncode == 1
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "apt-get install -y chromium" in lines[0] and " install chromium;" in lines[0]
