"""The local PostgreSQL server (`voc pg`) and voc's store on it, against the real server from Debian's
packages: a cluster of its own, 127.0.0.1 only, a generated password; two ingests at once into one
shared store lose nothing and store nothing twice."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pg_support
import pytest
from sqlalchemy import create_engine, func, select, text

from voc.pg_node import PgConfig, PgNode, PgNodeError, find_bin_dir
from voc.settings import VocSettings
from voc.store import documents

try:
    find_bin_dir()
    NO_SERVER = ""
except PgNodeError as exc:
    NO_SERVER = str(exc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def own_node() -> Iterator[PgNode]:
    if NO_SERVER:
        pytest.skip(NO_SERVER)
    # not under pytest's tmp_path: as root the server runs as `postgres`, which cannot enter root's 0700 dirs
    base = Path("/var/tmp" if os.geteuid() == 0 else os.environ.get("TMPDIR", "/tmp"))
    root = base / f"voc-pg-{uuid.uuid4().hex[:8]}"
    node = PgNode(PgConfig(root=root, port=free_port(), node_name="lifecycle"))
    try:
        yield node
    finally:
        try:
            node.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


def test_node_lifecycle_keeps_data_and_listens_on_loopback_only(own_node: PgNode) -> None:
    status = own_node.start()
    assert status.running and "***" in status.url and own_node.saved_password() not in status.url
    assert stat.S_IMODE(own_node.credentials_file.stat().st_mode) == 0o600
    engine = create_engine(own_node.url())
    with engine.begin() as conn:
        assert conn.scalar(text("SHOW listen_addresses")) == "127.0.0.1"
        conn.execute(text("CREATE TABLE kept (v int)"))
        conn.execute(text("INSERT INTO kept VALUES (7)"))
    engine.dispose()
    wrong = create_engine(own_node.url().replace(own_node.saved_password() or "", "not-the-password"))
    with pytest.raises(Exception, match="password authentication failed"):
        wrong.connect()
    assert own_node.start().running  # a second start is a no-op
    assert own_node.stop() and not own_node.running() and not own_node.stop()
    own_node.start()  # the cluster and its password survive a restart
    engine = create_engine(own_node.url())
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT v FROM kept")) == 7
    engine.dispose()


def test_bad_database_and_node_names_are_refused(own_node: PgNode) -> None:
    with pytest.raises(PgNodeError, match="database name"):
        own_node.create_database('x"; DROP DATABASE voc; --')
    with pytest.raises(PgNodeError, match="node name"):
        PgNode(PgConfig(root=own_node.config.root, node_name="../escape"))


def test_missing_server_binaries_say_how_to_install(tmp_path: Path) -> None:
    # a directory named in VOC_PG_BIN_DIR is the only one tried: no silent fallback to another server
    with pytest.raises(PgNodeError, match=r"not found \(looked in .*nowhere\).*apt-get install postgresql"):
        find_bin_dir(tmp_path / "nowhere")


@pytest.fixture
def shared_store() -> Iterator[str]:
    node, why = pg_support.pg_node()
    if node is None:
        pytest.skip(why)
    with pg_support.fresh_database(node) as url:
        yield url


def _ingest(home: Path, url: str, path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "VOC_HOME": str(home), "VOC_DATABASE_URL": url, "VOC_WORKERS": "1"}
    return subprocess.Popen([str(Path(sys.executable).parent / "voc"), "ingest", str(path), "--source", "review",
                             "--id-col", "id", "--text-col", "text"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_ingests_at_once_share_one_postgres_store(shared_store: str, tmp_path: Path) -> None:
    rows = [(f"r{i}", f"第{i}号订单的快递{'很快' if i % 2 else '太慢'}，编号{i * 7919}") for i in range(300)]
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("id,text\n" + "".join(f"{i},{t}\n" for i, t in rows[:200]), encoding="utf-8")
    second.write_text("id,text\n" + "".join(f"{i},{t}\n" for i, t in rows[100:]), encoding="utf-8")  # 100 shared
    runs = [_ingest(tmp_path / "home-a", shared_store, first), _ingest(tmp_path / "home-b", shared_store, second)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    engine = create_engine(shared_store)
    with engine.connect() as conn:
        stored = conn.execute(select(documents.c.external_id, func.count()).group_by(documents.c.external_id)).all()
    engine.dispose()
    assert len(stored) == 300 and all(count == 1 for _, count in stored)
    again = _ingest(tmp_path / "home-a", shared_store, first)
    out = again.communicate(timeout=600)[0]
    assert again.returncode == 0 and "accepted 0" in out, out


def test_settings_point_the_store_at_postgres(shared_store: str, tmp_path: Path) -> None:
    from voc.service import Voc

    voc = Voc(VocSettings(home=tmp_path / "home", database_url=shared_store, workers=1))
    try:
        assert voc.store.engine.dialect.name == "postgresql"
        shown = VocSettings(database_url=shared_store).redacted()["resolved_database_url"]
        assert "***" in shown and shared_store.split(":")[2].split("@")[0] not in shown
    finally:
        voc.close()
