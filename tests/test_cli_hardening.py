"""Issue 17, the CLI side: secrets in `voc config` (17), a read-only VOC_HOME (19), a full disk (20) and
the permissions of what voc creates under VOC_HOME (23e)."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from voc.cli.main import app
from voc.redaction import MASK, redact_url

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
