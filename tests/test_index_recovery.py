"""A damaged (item 10) or lost (item 18) embedded index, issue 17.

Damaged (random bytes, truncation): every command said nothing useful but a traceback, `voc index rebuild`
included, and the API answered 500. Lost (deleted, emptied): the file was recreated empty and search
quietly found nothing while `/readyz` said ok and `voc index status` showed 0 pending. Now: commands
say what is wrong and to run `voc index rebuild` (exit ≠ 0, one line), search answers 503 with the
reason, `/readyz` is not ready with the reason, and the rebuild recovers from the store; a server
that was running meanwhile picks up the rebuilt file without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from api_support import ApiEnv, api_env

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [{"id": f"r{n}", "text": f"快递太慢了，第{n}次催单"}
             for n in range(40)]


def _random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def _truncated(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _garbage_inside(path: Path) -> None:
    with path.open("r+b") as file:
        file.seek(4096)
        file.write(os.urandom(8192))


def _deleted(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _emptied(path: Path) -> None:
    _deleted(path)
    path.write_bytes(b"")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "random bytes": _random_bytes, "truncated": _truncated, "garbage inside": _garbage_inside}
LOSS: dict[str, Callable[[Path], None]] = {"deleted": _deleted, "emptied": _emptied}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiEnv]:
    """A running API over a home with 40 indexed documents, its index file checkpointed and closed."""
    with api_env(tmp_path / "home", corpus=False, raise_server_exceptions=False) as env:
        env.ingest(DOCUMENTS)
        voc = env.app.state.voc_api.voc
        assert voc.index.count() == len(DOCUMENTS)
        voc.index.close()  # as if the file were damaged while no process had it open
        del voc.__dict__["index"]
        yield env


def _voc(env: ApiEnv, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `voc` entry point in a process of its own: what a user sees, traceback or not."""
    home = env.app.state.voc_api.voc.settings.home
    variables = {key: value for key, value in os.environ.items() if not key.startswith("VOC_")}
    variables |= {"VOC_HOME": str(home), "VOC_WORKERS": "1", "PYTHONPATH": str(ROOT)}  # this checkout's code
    return subprocess.run([sys.executable, "-c", "from voc.cli.main import main; main()", *args],
                          capture_output=True, text=True, env=variables, timeout=300, check=False)


def _index_path(env: ApiEnv) -> Path:
    return Path(env.app.state.voc_api.voc.settings.embedded_index_path)


def _search(env: ApiEnv) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = env.client.get("/v1/search", params={"q": "快递", "facets": "none"}, headers=env.headers("researcher"))
    return response.status_code, response.json()


def _check_rebuild_recovers(env: ApiEnv) -> None:
    rebuilt = _voc(env, "index", "rebuild")
    assert rebuilt.returncode == 0 and "Traceback" not in rebuilt.stderr, rebuilt.stderr
    status = _voc(env, "index", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert '"indexed": 40' in status.stdout and "problem" not in status.stdout
    # the server that kept running finds the rebuilt file by itself
    code, body = _search(env)
    assert code == 200 and body["total"] == len(DOCUMENTS), body
    assert env.client.get("/readyz").json() == {"status": "ok", "checks": {"store": "ok", "index": "ok"}}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_index_is_reported_then_rebuilt(server: ApiEnv, damage: str) -> None:
    path = _index_path(server)
    DAMAGE[damage](path)

    for command in (["search", "快递"], ["index", "status"], ["index", "sync"], ["tag", "add", "x", "--query", "快递"]):
        result = _voc(server, *command)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode != 0 and "Traceback" not in result.stderr, (command, result.stderr[-2000:])
        assert "damaged" in lines[-1] and "voc index rebuild" in lines[-1], (command, result.stderr)

    code, body = _search(server)
    assert code == 503 and "damaged" in body["error"]["message"] and "voc index rebuild" in body["error"]["message"]
    ready = server.client.get("/readyz")
    assert ready.status_code == 503 and "damaged" in ready.json()["reasons"]["index"]

    rebuilt = _voc(server, "index", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "moved it to" in rebuilt.stderr
    kept = [p for p in path.parent.iterdir() if p.name.startswith("index.sqlite.damaged-")]
    assert kept, "the damaged file is kept for a post-mortem"
    _check_rebuild_recovers(server)


@pytest.mark.parametrize("loss", sorted(LOSS))
def test_a_lost_index_is_noticed_not_passed_off_as_empty(server: ApiEnv, loss: str) -> None:
    LOSS[loss](_index_path(server))

    status = _voc(server, "index", "status", "--json")
    assert status.returncode == 1 and "Traceback" not in status.stderr, status.stderr
    assert '"indexed": 0' in status.stdout and '"problem": "the search index holds 0 documents' in status.stdout
    assert "holds 0 documents but the store has 40 marked as indexed" in status.stderr
    assert "voc index rebuild" in status.stderr

    code, body = _search(server)
    assert code == 503 and "holds 0 documents" in body["error"]["message"], body
    ready = server.client.get("/readyz")
    assert ready.status_code == 503 and "holds 0 documents" in ready.json()["reasons"]["index"]

    _check_rebuild_recovers(server)


def test_a_sound_index_passes_every_check(server: ApiEnv) -> None:
    status = _voc(server, "index", "status")
    assert status.returncode == 0 and "indexed 40" in status.stdout and "pending 0" in status.stdout
    assert _search(server)[0] == 200
    assert server.client.get("/readyz").status_code == 200
