"""Shared test helpers, and the rule that keeps the data-needing tests honest on a machine without the data.

The course datasets live in the seqlab cache ($SEQLAB_HOME, else ~/.cache/seqlab); the project ships none of
them. A test that needs one must skip, saying which and how to get it, when it is absent, and this must not
depend on anyone remembering a marker. So every test runs with SEQLAB_HOME pointing at a folder of its own
(under one temporary folder for the session) that holds only the datasets the test *declared*, as links to
the verified files of the real cache:

- a fixture: ``dinos_path``, ``shakespeare_path``, ``metheny_path``;
- a call of ``dataset_path(name)`` (in the test, a fixture or a helper): it skips when the dataset is absent,
  else links it into the running test's folder and returns the path there;
- a marker naming them: ``@pytest.mark.data("dinos", "metheny")``, for a test that names a dataset only to
  the CLI or a subprocess (``seqlab train dinos``); it skips before setup when one is absent.

A test that reaches a dataset without declaring it finds an empty cache on every machine, the one with the
data included, so it fails at once where it was written instead of on a fresh clone. Its failure report gets a
section saying how to declare it, and a test that turns that error into a skip of its own (catching the
UserError) fails too: only a declared dataset may skip a test. Everything a test writes into SEQLAB_HOME (the
playground's trained models) stays in its own folder, never in the real cache. Each data-needing test gets the
``data`` marker (``pytest -m "not data"`` runs the rest).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from seqlab import data
from seqlab.errors import UserError

FIXTURE_DATASETS = {"dinos_path": "dinos", "shakespeare_path": "shakespeare", "metheny_path": "metheny"}
HINT = ("this test reached a dataset it did not declare (each test sees only those it declares): use a fixture "
        "(dinos_path, ...), call conftest.dataset_path(name), or mark it @pytest.mark.data(\"name\", ...)")

_real_home: Path | None = None      # the cache as the session found it
_root: Path | None = None           # the session's folder of per-test homes
_home: Path | None = None           # the running test's home; None between tests
_verified: dict[str, tuple[Path | None, str]] = {}
_count = 0


def _check(name: str) -> tuple[Path | None, str]:
    """(verified file in the real cache, "") or (None, why not); each dataset is hashed once a session."""
    if name not in _verified:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("SEQLAB_HOME", str(_real_home))
            try:
                _verified[name] = (data.path(name), "")
            except UserError as exc:
                _verified[name] = (None, f"needs dataset {name!r}: {exc}")
    return _verified[name]


def dataset_path(name: str) -> Path:
    """The verified file of dataset `name`, declared for the running test (linked into its SEQLAB_HOME);
    skips the calling test, saying how to get it, when the dataset is absent."""
    real, why = _check(name)
    if real is None:
        pytest.skip(why)
    if _home is None:       # outside a test (collection): the real file
        return real
    link = _home / real.name
    if not link.exists():
        link.symlink_to(real)
    return link


def _declared(item) -> list[str]:
    names = [FIXTURE_DATASETS[f] for f in getattr(item, "fixturenames", ()) if f in FIXTURE_DATASETS]
    for mark in item.iter_markers("data"):
        names.extend(mark.args)
    return list(dict.fromkeys(names))


def pytest_configure(config):
    global _real_home, _root
    _real_home = data.cache_dir()
    _root = Path(tempfile.mkdtemp(prefix="seqlab-tests-"))


def pytest_unconfigure(config):
    if _root is not None:
        shutil.rmtree(_root, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    for item in items:
        unknown = [n for n in _declared(item) if n not in data.DATASETS]
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: unknown dataset(s) {unknown} in @pytest.mark.data; "
                                    f"known: {', '.join(data.DATASETS)}")
        if _declared(item) and not item.get_closest_marker("data"):
            item.add_marker("data")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Each test runs with SEQLAB_HOME at a fresh folder holding its declared datasets (set before any fixture
    is set up; a folder stays until the session ends, for servers that outlive the test that started them)."""
    global _home, _count
    _count += 1
    _home = _root / f"{_count:04d}-{item.name[:40].replace('/', '_')}"
    _home.mkdir()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SEQLAB_HOME", str(_home))
        try:
            yield
        finally:
            _home = None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    for name in _declared(item):
        dataset_path(name)          # skips before any fixture when one is absent


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    text = str(report.longrepr) if report.longrepr is not None else ""
    if str(_root) not in text:
        return
    if report.skipped:      # it caught the missing-dataset error and skipped itself: only a declaration may
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} skipped itself on a dataset it did not declare: {text}\n{HINT}"
    elif report.failed:
        report.sections.append(("seqlab datasets", HINT))


@pytest.fixture
def dinos_path() -> Path:
    return dataset_path("dinos")


@pytest.fixture
def shakespeare_path() -> Path:
    return dataset_path("shakespeare")


@pytest.fixture
def metheny_path() -> Path:
    return dataset_path("metheny")
