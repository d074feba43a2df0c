"""Issue 17, the CLI side: secrets in `voc config` (17), a read-only VOC_HOME (19), a full disk (20) and
the permissions of what voc creates under VOC_HOME (23e)."""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import stat
import string
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, insert
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from api.auth import KeyStore
from voc.cli.failures import EXIT_STORAGE, storage_failure_message
from voc.cli.main import app
from voc.redaction import MASK, redact_url
from voc.service import Voc
from voc.settings import VocSettings
from voc.store import DocumentStore, documents
from voc.topics.store import TopicStore

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


VOC_BIN = Path(sys.executable).with_name("voc")


@functools.cache
def _private_mounts_work() -> bool:
    """Whether this process may mount a tmpfs in a private mount namespace (root with CAP_SYS_ADMIN)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True, check=False)
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(not _private_mounts_work(),
                                  reason="needs root and unshare/mount to make a real full or read-only disk")


def _in_private_mount(home: Path, mount: str, commands: str) -> subprocess.CompletedProcess[str]:
    """Run shell ``commands`` with ``home`` mounted as ``mount`` in a private namespace: the mount
    vanishes with the process, whatever happens to the test."""
    home.mkdir(parents=True, exist_ok=True)
    script = f"set -e\n{mount} {shlex.quote(str(home))}\n{commands}"
    env = os.environ | {"VOC_HOME": str(home), "VOC_WORKERS": "1", "VOC": str(VOC_BIN)}
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env,
                          check=False, timeout=240)


def _one_clean_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr[-3000:]
    assert "Traceback" not in stderr and "INSERT" not in stderr and "SELECT" not in stderr
    return lines[0]


@needs_mounts
def test_disk_full_is_one_line_and_a_distinct_exit_code(tmp_path: Path) -> None:
    """A real full disk: a 1 MB tmpfs, filled up after the store was created (item 20)."""
    home = tmp_path / "home"
    result = _in_private_mount(home, "mount -t tmpfs -o size=1m tmpfs", """
        "$VOC" tag list >/dev/null
        head -c 10M /dev/zero > "$VOC_HOME/filler" 2>/dev/null || true
        set +e
        "$VOC" keys create --role admin --name 清单
        echo "rc=$?" >&2
    """)
    *stderr, rc = result.stderr.rstrip().splitlines()
    line = _one_clean_line("\n".join(stderr))
    assert rc == f"rc={EXIT_STORAGE}"
    assert "disk" in line and str(home) in line


def test_store_errors_never_quote_document_text(tmp_path: Path) -> None:
    """SQLite's own SQLITE_FULL (a page limit on the connection): neither the exception the store raises
    nor the CLI's line carries the row's text (item 20)."""
    store = DocumentStore(f"sqlite:///{tmp_path / 'voc.sqlite'}")
    event.listen(store.engine, "connect", lambda conn, _: conn.execute("PRAGMA max_page_count=8"))
    store.engine.dispose()
    text = "客户电话联系不上，地址在幸福路十八号" * 400
    row = {"id": "d1", "source": "review", "text": text, "text_original": text, "ingested_at": datetime.now(),
           "meta": {}, "turns": [], "tokens": "", "search_terms": "", "pii": [], "analysis": {}, "indexed": False}
    try:
        with pytest.raises(OperationalError) as caught, store.engine.begin() as conn:
            conn.execute(insert(documents), [row])
    finally:
        store.close()
    assert "幸福路" not in str(caught.value)
    line = storage_failure_message(caught.value, tmp_path)
    assert line.startswith("writing to the database failed") and "disk full" in line and "幸福路" not in line


@needs_mounts
def test_a_read_only_home_serves_reads_and_refuses_writes_in_one_line(tmp_path: Path) -> None:
    """VOC_HOME on a read-only bind mount (root ignores chmod, a mount it cannot): commands that only
    read the store work; the others say in one line that VOC_HOME is read-only (item 19)."""
    home = tmp_path / "home"
    data = tmp_path / "a.csv"
    data.write_text("id,text\nr1,快递太慢了，客服态度也差\nr2,东西很好，包装精美\n", encoding="utf-8")
    service = Voc(VocSettings(home=home, workers=1))
    try:  # a home as a server leaves it: documents, keys, the topic tables
        service.ingest(data, "review")
        KeyStore(service.store.engine).create("admin")
        TopicStore(service.store.engine)
        document = next(service.store.iter_documents())[0]
        doc_id = document.id
    finally:
        service.close()
    commands = {"show": f"show {doc_id}", "tags": "tag list", "keys": "keys list", "topics": "topics list",
                "config": "config", "search": "search 快递", "tag_add": f"tag add 复核 --ids {doc_id}",
                "serve": "serve --port 1"}
    out = tmp_path / "out"
    out.mkdir()
    script = "set +e\n" + "".join(
        f'"$VOC" {command} >{out}/{name}.out 2>{out}/{name}.err; echo $? >{out}/{name}.rc\n'
        for name, command in commands.items())
    result = _in_private_mount(home, "mount --bind {0} {0} && mount -o remount,ro,bind".format(
        shlex.quote(str(home))), script)
    assert result.returncode == 0, result.stderr

    def ran(name: str) -> tuple[int, str, str]:
        return (int((out / f"{name}.rc").read_text()), (out / f"{name}.out").read_text(),
                (out / f"{name}.err").read_text())

    code, shown, _ = ran("show")
    assert code == 0 and document.text_original in shown
    for name in ("tags", "keys", "topics", "config"):
        assert ran(name)[0] == 0, ran(name)
    for name in ("tag_add", "serve"):
        code, _, stderr = ran(name)
        assert code == EXIT_STORAGE and f"VOC_HOME {home} is read-only" in _one_clean_line(stderr), stderr
    code, _, stderr = ran("search")  # the embedded index needs to write to open: works, or says why in one line
    assert code == 0 or (code == EXIT_STORAGE and "read-only" in _one_clean_line(stderr)), stderr
