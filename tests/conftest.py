"""Shared test helpers: the real course datasets, when they are in the seqlab cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqlab import data
from seqlab.errors import UserError


def dataset_path(name: str) -> Path:
    """The verified cached file of dataset `name`, or skip the calling test saying how to get it."""

    try:
        return data.path(name)
    except UserError as exc:
        pytest.skip(f"needs dataset {name!r}: {exc}")


@pytest.fixture
def dinos_path() -> Path:
    return dataset_path("dinos")


@pytest.fixture
def shakespeare_path() -> Path:
    return dataset_path("shakespeare")


@pytest.fixture
def metheny_path() -> Path:
    return dataset_path("metheny")
