"""Issue 17, item 11: a topic build is atomic, and a build whose process died is detected and cleared.

A real ``voc topics build`` process is killed (SIGKILL, by the plain test-only setting
``VOC_TOPICS_KILL_AT``) at each dangerous point: after its model file is written but before its
database commit, and after the commit but before the model is published. Whatever the point, the next
command must see one build: the topics table, the documents' topic ids and the saved model agree; new
documents get live topic ids; the dead build is marked failed with a reason; and a rebuild succeeds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import joblib
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from voc.service import Voc
from voc.settings import VocSettings
from voc.store import documents
from voc.topics.service import KILL_AT_ENV, model_path
from voc.topics.store import topic_builds

VOC = str(Path(sys.executable).parent / "voc")
THEMES = {
    "logistics": ["快递", "物流", "配送", "包裹", "快递员", "驿站", "发货", "签收"],
    "taste": ["味道", "口感", "好吃", "香菜", "太咸", "米饭", "分量", "汤汁"],
    "billing": ["话费", "套餐", "扣费", "流量", "账单", "月租", "退费", "营业厅"],
    "property": ["物业", "电梯", "保安", "小区", "停车位", "绿化", "物业费", "门禁"],
}
# Arrives between the two builds, so the killed build has a topic the first build did not.
NEW_THEME = ["充电桩", "电动车", "充电", "车位", "电费", "插座", "功率", "排队"]
FILLER = ["这次", "真的", "有点", "非常", "我们", "一直", "希望", "今天"]


def _texts(words: list[str], count: int, rng: random.Random) -> list[str]:
    return ["".join(rng.sample(words, 4) + rng.sample(FILLER, 3)) for _ in range(count)]


def _ingest(voc: Voc, path: Path, texts: list[str], prefix: str) -> None:
    path.write_text("id,text,time\n" + "\n".join(f"{prefix}{i},{text},2026-03-{1 + i % 28:02d}"
                                                 for i, text in enumerate(texts)) + "\n", encoding="utf-8")
    voc.ingest(path, "review")


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A store with one finished build, then documents of a theme that build has never seen."""
    home = tmp_path / "home"
    rng = random.Random(0)
    voc = Voc(VocSettings(home=home, workers=1))
    try:
        _ingest(voc, tmp_path / "first.csv", [t for words in THEMES.values() for t in _texts(words, 60, rng)], "a")
        voc.topics.build()
    finally:
        voc.close()
    # without the topic stage: the first build's model would file them under an old topic id, which the
    # next build would then inherit for the new theme
    voc = Voc(VocSettings(home=home, workers=1, analysis_stages=["sentiment"]))
    try:
        _ingest(voc, tmp_path / "second.csv", _texts(NEW_THEME, 80, rng), "b")
    finally:
        voc.close()
    yield home


def _killed_build(home: Path, point: str) -> None:
    env = {**os.environ, "VOC_HOME": str(home), "VOC_WORKERS": "1", KILL_AT_ENV: point}
    done = subprocess.run([VOC, "topics", "build", "--json"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stderr[-2000:])


def _topic_counts(voc: Voc, id_prefix: str) -> Counter[int]:
    with voc.store.engine.connect() as conn:
        return Counter(conn.execute(select(documents.c.topic_id)
                                    .where(documents.c.external_id.like(f"{id_prefix}%"))).scalars())


def _assert_one_build(voc: Voc) -> set[int]:
    """Topics table, documents and the model published for new documents all come from the same build."""
    current = voc.topics.store.latest_build()
    assert current is not None
    active = {topic.id for topic in voc.topics.list_topics()}
    with voc.store.engine.connect() as conn:
        assigned = set(conn.execute(select(documents.c.topic_id).distinct()).scalars())
    unknown = assigned - active - {-1, None}  # None: stored without the topic stage, before any build saw it
    assert not unknown, f"documents carry topic ids the topics table lacks: {unknown}"
    bundle = joblib.load(model_path(voc.settings))
    assert bundle["build_id"] == current["id"]
    assert set(bundle["topic_ids"]) == active
    return active


@pytest.mark.parametrize("point", ["model-saved", "committed"])
def test_a_build_killed_at_any_point_leaves_one_whole_build(home: Path, tmp_path: Path, point: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _killed_build(home, point)

    # The next command ingests more of the new theme: the documents join the topic the current build
    # gave that theme (a model left from another build would put them elsewhere or nowhere).
    voc = Voc(VocSettings(home=home, workers=1))
    try:
        _ingest(voc, tmp_path / "third.csv", _texts(NEW_THEME, 10, random.Random(1)), "c")
        new_topics = _topic_counts(voc, "c")
        theme_topics = _topic_counts(voc, "b")
    finally:
        voc.close()

    # `voc topics status`: killed before its commit, the build is failed with the reason; killed after,
    # its commit stands and it is the current build. Nothing is left "running".
    monkeypatch.setenv("VOC_HOME", str(home))
    monkeypatch.setenv("VOC_WORKERS", "1")
    from voc.cli.main import app

    status = CliRunner().invoke(app, ["topics", "status", "--json"])
    assert status.exit_code == 0, status.output
    report = json.loads(status.stdout)
    killed = max(report["builds"], key=lambda build: build["id"])
    if point == "model-saved":
        assert killed["status"] == "failed" and "exited" in killed["error"], killed
        assert report["current_build"] == killed["id"] - 1
    else:
        assert killed["status"] == "done" and report["current_build"] == killed["id"], killed
    assert not [build for build in report["builds"] if build["status"] == "running"]

    voc = Voc(VocSettings(home=home, workers=1))
    try:
        active = _assert_one_build(voc)
        assert set(new_topics) - {-1} <= active, (new_topics, active)
        if point == "committed":  # the killed build is current: its model files the theme with the rest
            assert new_topics.most_common(1)[0][0] == theme_topics.most_common(1)[0][0], (new_topics, theme_topics)

        rebuilt = voc.topics.build()  # the dead build does not block the next one
        assert voc.topics.store.latest_build()["id"] == rebuilt.build_id
        _assert_one_build(voc)
        files = {p.name for p in model_path(voc.settings).parent.iterdir()}
        # only the current and the previous committed build's models are kept (a failed build's is removed)
        previous = killed["id"] if point == "committed" else killed["id"] - 1
        assert files == {"model.joblib", f"model-{rebuilt.build_id}.joblib", f"model-{previous}.joblib"}, files
    finally:
        voc.close()


def test_a_running_build_of_a_live_process_is_not_cleared(home: Path) -> None:
    """Only builds whose process is gone are cleared: one still running here blocks a second build."""
    voc = Voc(VocSettings(home=home, workers=1))
    try:
        build_id = voc.topics.store.start_build({"source": None, "since": None})
        again = Voc(VocSettings(home=home, workers=1))
        try:
            with pytest.raises(ValueError, match="already running"):
                again.topics.build()
            running = [b for b in again.topics.store.recent_builds() if b["id"] == build_id]
            assert running[0]["status"] == "running"
        finally:
            again.close()
        # the same build owned by a process that no longer exists is stale
        with voc.store.engine.begin() as conn:
            conn.execute(update(topic_builds).where(topic_builds.c.id == build_id)
                         .values(owner=_dead_owner()))
        cleared = voc.topics.store.clear_stale_builds()
        assert [b["id"] for b in cleared] == [build_id]
        assert voc.topics.build().build_id > build_id
    finally:
        voc.close()


def _dead_owner() -> str:
    """The owner string of a process on this host that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    from voc.topics.store import owner_of

    return owner_of(child.pid)


def test_a_store_from_before_build_owners_is_upgraded_and_its_stuck_build_cleared(tmp_path: Path) -> None:
    """What the old code left after a kill: a build `running` for good, a plain model.joblib. Opening the
    topics adds the new columns, fails the stuck build with a reason and keeps the committed model."""
    import sqlite3

    home = tmp_path / "home"
    Voc(VocSettings(home=home, workers=1)).store.close()
    with sqlite3.connect(home / "voc.sqlite") as conn:
        conn.execute("DROP TABLE IF EXISTS topic_builds")
        conn.execute("CREATE TABLE topic_builds (id INTEGER PRIMARY KEY, started_at DATETIME NOT NULL, "
                     "finished_at DATETIME, scope JSON NOT NULL, n_documents INTEGER NOT NULL, n_topics INTEGER "
                     "NOT NULL, outlier_share FLOAT, timings JSON, hierarchy JSON, status VARCHAR(16) NOT NULL)")
        conn.execute("INSERT INTO topic_builds VALUES (1, '2026-01-01 00:00:00', '2026-01-01 00:01:00', '{}', 10, 2,"
                     " 0.1, NULL, NULL, 'done'), (2, '2026-01-02 00:00:00', NULL, '{}', 0, 0, NULL, NULL, NULL, "
                     "'running')")
    (home / "topics").mkdir()
    joblib.dump({"model": None, "topic_ids": [1, 2], "labels": ["a", "b"], "build_id": 1}, home / "topics/model.joblib")

    voc = Voc(VocSettings(home=home, workers=1))
    try:
        status = voc.topics.status()
        assert status["current_build"] == 1
        stuck = next(build for build in status["builds"] if build["id"] == 2)
        assert stuck["status"] == "failed" and "earlier voc version" in stuck["error"]
        assert joblib.load(model_path(voc.settings))["build_id"] == 1
    finally:
        voc.close()
