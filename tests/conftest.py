from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pg_support
import pytest

from voc.settings import VocSettings

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test reads the developer's VOC_* variables or config file. With VOC_TEST_STORE=postgres every
    store is a fresh database on the local PostgreSQL server instead of a SQLite file."""
    import os

    for key in list(os.environ):
        if key.startswith("VOC_"):
            monkeypatch.delenv(key)
    # the default data directory falls back to the user's ($XDG_DATA_HOME/voc): never the real one
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.chdir(tmp_path)
    if pg_support.STORE != "postgres":
        yield
        return
    node, why = pg_support.pg_node()
    if node is None:
        pytest.fail(f"VOC_TEST_STORE=postgres but {why}")
    with pg_support.fresh_database(node) as url:
        monkeypatch.setenv("VOC_DATABASE_URL", url)
        yield


@pytest.fixture
def settings(tmp_path: Path) -> VocSettings:
    return VocSettings(home=tmp_path / "home", workers=1)


@pytest.fixture
def service(settings: VocSettings) -> Iterator[object]:
    from voc.service import Voc

    voc = Voc(settings)
    yield voc
    voc.close()
