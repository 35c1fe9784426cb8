"""Every notebook in notebooks/ runs top to bottom in a fresh kernel without a cell error.

Each notebook names the datasets it needs in its metadata (`seqlab.datasets`); where one is not in the seqlab
cache the notebook's test skips and says how to get it, as the other data tests do (CI imports them first).
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import dataset_path

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 270  # a stuck cell fails the test; each notebook's whole run is meant to take ≤ 90 s


def test_the_six_notebooks_are_there():
    assert [p.name[:3] for p in NOTEBOOKS] == ["01-", "02-", "03-", "04-", "05-", "06-"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_clean(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    for name in nb.metadata.get("seqlab", {}).get("datasets", []):
        dataset_path(name)
    # The kernel inherits the environment: keep the notebooks' temporary files in this test's folder.
    env_before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmp_path)
    try:
        NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        if env_before is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = env_before
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    written = {p.name for p in path.parent.iterdir()} - {p.name for p in NOTEBOOKS}
    assert not written, f"{path.name} left files in notebooks/: {sorted(written)}"
