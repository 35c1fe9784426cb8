"""tests/conftest.py's rule, run on probe tests in a pytest of their own: a test sees only the datasets it
declares (a marker, a fixture, a dataset_path call); those skip, saying why, when the dataset is absent; one
that reaches a dataset it did not declare fails, with the data and without, and so does one that turns the
missing dataset into a skip of its own."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from test_faults import ENV

TOY = b"alpha\nbeta\n"
REGISTER = f"""
from seqlab import data as _data
_data.DATASETS["toy"] = _data.Dataset("toy", "toy.txt", {len(TOY)}, "{hashlib.sha256(TOY).hexdigest()}",
                                      ("https://example.invalid/toy.txt",), "a test's own dataset")
"""
PROBES = '''
import os
import subprocess
import sys

import pytest

from conftest import dataset_path
from seqlab import data
from seqlab.errors import UserError


def test_undeclared():
    data.path("toy")


def test_undeclared_in_a_subprocess():
    code = "import sys; from seqlab import data; sys.exit(not (data.cache_dir() / 'toy.txt').is_file())"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_undeclared_skips_itself():
    try:
        data.path("toy")
    except UserError as exc:
        pytest.skip(str(exc))


@pytest.mark.data("toy")
def test_marked():
    assert data.path("toy").read_bytes() == b"alpha\\nbeta\\n"
    code = "import sys; from seqlab import data; sys.exit(not (data.cache_dir() / 'toy.txt').is_file())"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_called():
    assert dataset_path("toy") == data.path("toy")


def test_writes_stay_in_its_own_home():
    (data.cache_dir() / "playground").mkdir()
    assert not os.path.exists(os.path.join(os.environ["REAL_HOME"], "playground"))
'''


def _outcomes(tmp_path: Path, home: Path) -> tuple[dict, str]:
    conftest = (Path(__file__).parent / "conftest.py").read_text(encoding="utf-8")
    (tmp_path / "conftest.py").write_text(conftest + REGISTER, encoding="utf-8")
    (tmp_path / "test_probes.py").write_text(PROBES, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    data: needs datasets\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "-v", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**ENV, "SEQLAB_HOME": str(home), "REAL_HOME": str(home)})
    return dict(re.findall(r"::(\w+) (PASSED|FAILED|SKIPPED|ERROR)", done.stdout)), done.stdout


@pytest.mark.parametrize("present", [True, False], ids=["with the data", "without"])
def test_a_test_sees_only_the_datasets_it_declares(tmp_path, present):
    home, probes = tmp_path / "home", tmp_path / "probes"
    home.mkdir()
    probes.mkdir()
    if present:
        (home / "toy.txt").write_bytes(TOY)
    outcomes, out = _outcomes(probes, home)
    declared = "PASSED" if present else "SKIPPED"
    assert outcomes == {"test_undeclared": "FAILED", "test_undeclared_in_a_subprocess": "FAILED",
                        "test_undeclared_skips_itself": "FAILED", "test_marked": declared,
                        "test_called": declared, "test_writes_stay_in_its_own_home": "PASSED"}, out
    assert out.count("this test reached a dataset it did not declare") >= 2, out
    assert "skipped itself on a dataset it did not declare" in out
    if not present:
        assert f"needs dataset 'toy': dataset 'toy' is not in {home}: run `seqlab data fetch toy`" in out
    assert not (home / "playground").exists()
