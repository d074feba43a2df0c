"""A file ingest commits in bounded batches (issue 17, item 21).

Other writers (a `voc tag add`, a second `voc ingest`) proceed while a long ingest stores; a file
that fails part-way still stores nothing (the batches it committed are taken back, index entries
and tags included); a run killed with SIGKILL leaves a consistent store that a re-run completes.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from voc.ingest import runner
from voc.ingest.encoding import UnreadableFileError
from voc.service import Voc
from voc.settings import VocSettings

VOC = [str(Path(sys.executable).parent / "voc")]  # the installed console script
LONG_ROWS = 6_000


def write_reviews(path: Path, rows: int, prefix: str = "r") -> Path:
    moods = ["排队太久了", "店员态度很好", "菜品分量足", "上菜速度慢", "环境干净整洁", "价格偏贵"]
    lines = [f"{prefix}{i},第{i}号门店{moods[i % 6]}，下次{'还来' if i % 2 else '不来了'}" for i in range(rows)]
    path.write_text("id,text\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored_count(home: Path, table: str = "documents") -> int:
    """Read with a connection of our own: WAL readers never wait for a writer."""
    db = home / "voc.sqlite"
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        except sqlite3.OperationalError:  # tables not created yet
            return 0


def voc_cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VOC, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    # Small batches so a few thousand rows make many commits; one worker to spare the CPUs.
    return {**os.environ, "VOC_HOME": str(tmp_path / "home"), "VOC_WORKERS": "1", "VOC_BATCH_SIZE": "50"}


def write_lock_is_free(home: Path) -> bool:
    with sqlite3.connect(home / "voc.sqlite", timeout=0, isolation_level=None) as conn:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        conn.execute("ROLLBACK")
        return True


def pause_between_batches(process: subprocess.Popen[str], home: Path, attempts: int = 50) -> bool:
    """Stop the process (SIGSTOP) at a moment it holds no write lock; False if it always held one."""
    for _ in range(attempts):
        process.send_signal(signal.SIGSTOP)
        if write_lock_is_free(home):
            return True
        process.send_signal(signal.SIGCONT)
        time.sleep(0.05)
    return False


def test_other_writers_proceed_during_a_long_ingest_and_a_killed_run_completes_on_rerun(
        tmp_path: Path, cli_env: dict[str, str]) -> None:
    home = tmp_path / "home"
    seed = voc_cli(cli_env, "ingest", str(write_reviews(tmp_path / "seed.csv", 1, "seed")), "--source", "review",
                   "--json")
    assert seed.returncode == 0, seed.stderr
    with sqlite3.connect(home / "voc.sqlite") as conn:
        seed_id = conn.execute("SELECT id FROM documents").fetchone()[0]

    long_file = write_reviews(tmp_path / "long.csv", LONG_ROWS)
    long_run = subprocess.Popen([*VOC, "ingest", str(long_file), "--source", "review", "--json"], env=cli_env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while stored_count(home) <= 1 and long_run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        # Batches become visible while the run goes on (one transaction per file showed all or nothing),
        # and between batches the run holds no lock: other writers get their turn.
        assert long_run.poll() is None and 1 < stored_count(home) < 1 + LONG_ROWS
        assert pause_between_batches(long_run, home), "the ingest held the write lock all along"

        # The long run is frozen mid-file (as a slow pipeline would be): other writers go ahead at once.
        started = time.monotonic()
        tagged = voc_cli(cli_env, "tag", "add", "已读", "--ids", seed_id, "--json", timeout=60)
        assert tagged.returncode == 0, tagged.stderr
        assert json.loads(tagged.stdout) == {"tag": "已读", "changed": 1}
        other = voc_cli(cli_env, "ingest", str(write_reviews(tmp_path / "other.csv", 20, "o")), "--source",
                        "review", "--json", timeout=60)
        assert other.returncode == 0, other.stderr
        assert json.loads(other.stdout)["accepted"] == 20
        assert time.monotonic() - started < 30  # no busy-timeout wait behind the long run

        long_run.send_signal(signal.SIGKILL)  # `kill -9` part-way through the file
        long_run.wait(timeout=30)
    finally:
        if long_run.poll() is None:
            long_run.kill()
            long_run.wait()
    partial = stored_count(home) - 21
    assert 0 < partial < LONG_ROWS

    rerun = voc_cli(cli_env, "ingest", str(long_file), "--source", "review", "--json", timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["accepted"], summary["duplicates"]) == (LONG_ROWS - partial, partial)
    assert stored_count(home) == 1 + 20 + LONG_ROWS
    status = voc_cli(cli_env, "index", "status", "--json")
    assert json.loads(status.stdout) == {"backend": "embedded", "stored": 1 + 20 + LONG_ROWS,
                                         "indexed": 1 + 20 + LONG_ROWS, "pending": 0}


def test_a_file_that_fails_part_way_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The exporter is still writing the file: damaged bytes appear after the up-front check passed.
    Meanwhile a concurrent index sync indexed the committed batches and someone tagged one."""
    monkeypatch.setattr(runner, "PARALLEL_MIN_BYTES", 1 << 40)
    voc = Voc(VocSettings(home=tmp_path / "home", workers=1, batch_size=100))
    path = write_reviews(tmp_path / "growing.csv", 3_000)
    seen_while_running: list[int] = []

    def progress(_advance: int) -> None:
        if seen_while_running:
            return
        seen_while_running.append(stored_count(voc.settings.home))
        voc.sync_index()
        voc.tag("已读", ids=voc.index.ids_for(voc.build_query(None))[:3])
        with path.open("ab") as handle:
            handle.write(b"9999,\xff\xfe\xfa damaged tail\n")

    try:
        with pytest.raises(UnreadableFileError, match="not valid utf-8"):
            voc.ingest(path, "review", progress=progress)
        assert seen_while_running and seen_while_running[0] > 0  # batches were committed, then taken back
        assert voc.store.count() == 0 and voc.index.count() == 0 and voc.store.tag_counts() == {}
        assert stored_count(voc.settings.home, "minhash_signatures") == 0
        with sqlite3.connect(voc.settings.home / "voc.sqlite") as conn:
            assert conn.execute("SELECT status FROM ingest_runs").fetchall() == [("failed",)]
        assert not list((voc.settings.home / "rejects").glob("*")) if (voc.settings.home / "rejects").exists() \
            else True
    finally:
        voc.close()


def test_a_file_damaged_at_the_end_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    """Damaged bytes past the encoding sample are found by the up-front read, before the pipeline runs."""
    voc = Voc(VocSettings(home=tmp_path / "home", workers=1, batch_size=100))
    path = write_reviews(tmp_path / "broken.csv", 8_000)
    with path.open("ab") as handle:
        handle.write(b"9999,\xff\xfe\xfa broken tail\n")
    stored_during_run: list[int] = []
    try:
        with pytest.raises(UnreadableFileError, match="not valid utf-8"):
            voc.ingest(path, "review", progress=lambda _n: stored_during_run.append(voc.store.count()))
        assert stored_during_run == []  # refused before the first batch was processed
        assert voc.store.count() == 0
    finally:
        voc.close()


@pytest.fixture
def short_busy_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's busy wait cut from 30 s to 1 s, so that a writer that stays locked out fails quickly."""
    import voc.store

    def pragmas(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=1000")
        cursor.close()

    monkeypatch.setattr(voc.store, "_sqlite_pragmas", pragmas)


def hold_write_lock(home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(home / "voc.sqlite", isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_ingest_locked_out_of_the_store_fails_in_one_line_and_a_rerun_completes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, short_busy_wait: None) -> None:
    from typer.testing import CliRunner

    from voc.cli.main import app

    home = tmp_path / "home"
    monkeypatch.setenv("VOC_HOME", str(home))
    monkeypatch.setenv("VOC_WORKERS", "1")
    cli = CliRunner()
    assert cli.invoke(app, ["ingest", str(write_reviews(tmp_path / "a.csv", 3, "a")), "--source", "review"]
                      ).exit_code == 0
    path = write_reviews(tmp_path / "b.csv", 50, "b")
    lock = hold_write_lock(home)  # another writer that does not let go
    try:
        result = cli.invoke(app, ["ingest", str(path), "--source", "review"])
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert result.exit_code == 4, result.output
    assert "database is locked" in result.stderr and "run the same command again" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "INSERT" not in result.stderr
    assert stored_count(home) == 3
    again = cli.invoke(app, ["ingest", str(path), "--source", "review", "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["accepted"] == 50


def test_a_run_locked_out_part_way_leaves_whole_batches_that_a_rerun_completes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, short_busy_wait: None) -> None:
    """The lock is lost after the first batch; taking the batch back needs the lock too, so the batch
    stays (as after `kill -9`) and the same file ingested again completes the run."""
    monkeypatch.setattr(runner, "PARALLEL_MIN_BYTES", 1 << 40)
    voc = Voc(VocSettings(home=tmp_path / "home", workers=1, batch_size=100))
    path = write_reviews(tmp_path / "r.csv", 500)
    locks: list[sqlite3.Connection] = []
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            voc.ingest(path, "review", progress=lambda _n: locks or locks.append(hold_write_lock(voc.settings.home)))
        kept = voc.store.count()
        assert kept == 100  # one whole batch, never part of one
        locks[0].execute("ROLLBACK")
        report = voc.ingest(path, "review")
        assert (report.accepted, report.duplicates) == (400, 100) and voc.store.count() == 500
        assert voc.index.count() == 500
    finally:
        for lock in locks:
            lock.close()
        voc.close()
