"""Issue 17, the CLI side: secrets in `voc config` (17), a read-only VOC_HOME (19), a full disk (20) and
the permissions of what voc creates under VOC_HOME (23e)."""

from __future__ import annotations

import json
import os
import stat
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from voc.cli.main import app
from voc.redaction import MASK, redact_url
from voc.service import Voc
from voc.settings import VocSettings
from voc.store import DocumentStore

runner = CliRunner()

SECRETS = ("s3cr3t-db-pw", "es-url-pw", "es-pw-setting", "es-api-key-value", "query-secret")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOC_WORKERS", "1")
    return tmp_path / "home"


@pytest.mark.parametrize("as_json", [False, True])
def test_config_hides_passwords_in_urls(home: Path, monkeypatch: pytest.MonkeyPatch, as_json: bool) -> None:
    monkeypatch.setenv("VOC_DATABASE_URL",
                       "postgresql+psycopg://voc:s3cr3t-db-pw@db.example:5432/voc?sslpassword=query-secret")
    monkeypatch.setenv("VOC_ES_URL", "https://elastic:es-url-pw@127.0.0.1:9200/")
    monkeypatch.setenv("VOC_ES_PASSWORD", "es-pw-setting")
    monkeypatch.setenv("VOC_ES_API_KEY", "es-api-key-value")
    result = runner.invoke(app, ["config", "--json"] if as_json else ["config"])
    assert result.exit_code == 0, result.output
    for secret in SECRETS:
        assert secret not in result.output
    # what is not secret stays readable: the user, host and database still show
    assert "voc:***@db.example:5432/voc" in result.output
    assert "elastic:***@127.0.0.1:9200" in result.output
    if as_json:
        values = json.loads(result.stdout)
        assert values["resolved_database_url"] == values["database_url"]


@settings(max_examples=50, deadline=None)
@given(user=st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8),
       password=st.text(string.ascii_letters + string.digits + "!$&'()*+,;=-._~%@:", min_size=6, max_size=20),
       scheme=st.sampled_from(["postgresql+psycopg", "https", "http", "mysql"]))
def test_redact_url_never_shows_the_password(user: str, password: str, scheme: str) -> None:
    url = f"{scheme}://{user}:{password}@host.example:5432/db"
    assert redact_url(url) == f"{scheme}://{user}:{MASK}@host.example:5432/db"


def test_redact_url_keeps_urls_without_credentials() -> None:
    assert redact_url("sqlite:////var/lib/voc/voc.sqlite") == "sqlite:////var/lib/voc/voc.sqlite"
    assert redact_url("http://127.0.0.1:9200") == "http://127.0.0.1:9200"
    assert redact_url("postgresql://db/voc?sslmode=require&password=x1") == \
        "postgresql://db/voc?sslmode=require&password=***"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_files_are_private_to_the_owner(home: Path) -> None:
    """voc.sqlite holds key hashes and customer texts: no other local user may read it (23e)."""
    previous = os.umask(0o022)  # the usual default, under which files come out world-readable
    try:
        result = runner.invoke(app, ["tag", "list"])
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    service = Voc(VocSettings())
    service.store.add_tag("x", ["no-such-document"])  # a write, so SQLite creates its WAL and SHM files
    created = [home / "voc.sqlite", home / "voc.sqlite-wal", home / "voc.sqlite-shm"]
    try:
        assert _mode(home) == 0o700
        assert {path.name: _mode(path) for path in created if path.exists()} == {path.name: 0o600 for path in created}
    finally:
        service.close()


def test_an_existing_world_readable_store_is_tightened_on_open(home: Path) -> None:
    home.mkdir(parents=True)
    database = home / "voc.sqlite"
    DocumentStore(f"sqlite:///{database}").close()
    database.chmod(0o644)
    DocumentStore(f"sqlite:///{database}").close()
    assert _mode(database) == 0o600
