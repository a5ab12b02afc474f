"""Shared fixtures: a store path in a temp folder, and the demo store built on a frozen day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from store import Store
from store.demo import build

TODAY = date(2026, 11, 20)  # a Friday; everything that depends on "today" uses this


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "team.json"


@pytest.fixture
def demo_store(store_path: Path) -> Store:
    store = Store(store_path)
    build(store, TODAY)
    return store
