"""Topic builds over the document store: fit, keep ids stable, write topics back, trends, emerging."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from voc.settings import VocSettings
from voc.store import documents, make_engine
from voc.topics import model_files, trends
from voc.topics.clustering import HdbscanClusterer
from voc.topics.embedding import make_embedder
from voc.topics.model import TopicFit, TopicModel
from voc.topics.refinement import CrossFitRefiner
from voc.topics.store import BuildCleared, Topic, TopicStore

MATCH_MIN_JACCARD = 0.2  # an old topic keeps its id when at least this share of the union is shared
_WRITE_BATCH = 2000
# Test-only fault injection, a plain environment setting: a build SIGKILLs its own process at the named
# point ("model-saved": model file written, nothing committed; "committed": committed, model not yet
# published), so tests can prove that no point leaves topics and model from different builds.
KILL_AT_ENV = "VOC_TOPICS_KILL_AT"

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BuildReport:
    build_id: int
    n_documents: int
    n_topics: int
    outlier_share: float
    carried_over: int
    new_topics: int
    retired: int
    seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def model_path(settings: VocSettings) -> Path:
    """The model of the current (newest committed) build: a link to that build's model file."""
    return settings.home / "topics" / model_files.PUBLISHED_NAME


def publish_current_model(settings: VocSettings, store: TopicStore) -> Path:
    """Make ``model_path`` agree with the database's current build (after a build killed between its
    commit and its publish) and remove model files of dead builds; returns ``model_path``."""
    done = store.recent_done_ids(limit=2)
    model_files.publish(model_path(settings).parent, done[0] if done else None,
                        keep={*store.running_build_ids(), *done})
    return model_path(settings)


def published_model_path(settings: VocSettings) -> Path:
    """``model_path`` for a pipeline about to assign topics, brought in line with the database first.

    Best effort: without any build there is nothing to check (and no store is opened), and on a
    read-only home the link is left as it is (the next build or topics command corrects it)."""
    path = model_path(settings)
    if not path.parent.is_dir():
        return path
    try:
        engine = make_engine(settings.resolved_database_url)
        try:
            return publish_current_model(settings, TopicStore(engine))
        finally:
            engine.dispose()
    except (OSError, SQLAlchemyError) as exc:
        log.warning("topic model not checked against the current build: %s", type(exc).__name__)
        return path


def _fault_point(name: str) -> None:
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def build_model(settings: VocSettings, tag_of: Callable[[str], str | None]) -> TopicModel:
    return TopicModel(make_embedder(settings.topic_embedding),
                      clusterer=HdbscanClusterer(min_cluster_share=settings.topic_min_cluster_share,
                                                 max_cluster_share=settings.topic_max_share,
                                                 n_jobs=settings.worker_count),
                      refiner=CrossFitRefiner(rounds=settings.topic_refine_rounds),
                      tag_of=tag_of, reassign_threshold=settings.topic_reassign_threshold,
                      split_share=settings.topic_max_share)


def match_topic_ids(new_members: list[set[str]], old_members: dict[int, set[str]], next_id: int) -> list[int]:
    """Stable ids: each new topic takes the id of the old topic it overlaps most (one-to-one, Hungarian
    assignment on Jaccard similarity of document sets); the rest get fresh ids."""
    old_ids = list(old_members)
    ids = [-1] * len(new_members)
    if old_ids and new_members:
        jaccard = np.zeros((len(new_members), len(old_ids)))
        for row, members in enumerate(new_members):
            for col, old_id in enumerate(old_ids):
                shared = len(members & old_members[old_id])
                if shared:
                    jaccard[row, col] = shared / len(members | old_members[old_id])
        for row, col in zip(*linear_sum_assignment(-jaccard), strict=True):
            if jaccard[row, col] >= MATCH_MIN_JACCARD:
                ids[row] = old_ids[col]
    for row, value in enumerate(ids):
        if value < 0:
            ids[row] = next_id
            next_id += 1
    return ids


class TopicService:
    """Topics for a :class:`voc.service.Voc` (imported lazily there to keep ingest light)."""

    def __init__(self, voc: Any) -> None:
        self.voc = voc
        self.settings: VocSettings = voc.settings
        self.store = TopicStore(voc.store.engine)
        # builds whose process died are failed with a reason, and the model follows the committed build;
        # best effort, so that reading topics from a read-only home still works
        self.cleared_builds: list[dict[str, Any]] = []
        try:
            self.cleared_builds = self.store.clear_stale_builds()
            publish_current_model(self.settings, self.store)
        except (OSError, SQLAlchemyError) as exc:
            log.warning("topic builds not checked (%s): run `voc topics status` where VOC_HOME is writable",
                        type(exc).__name__)

    def _rows(self, columns: list[Any], conditions: list[Any]) -> Iterator[Any]:
        query = select(*columns).where(and_(*conditions)) if conditions else select(*columns)
        with self.voc.store.engine.connect() as conn:
            yield from conn.execution_options(stream_results=True, yield_per=5000).execute(query)

    def build(self, *, source: str | None = None, since: datetime | None = None,
              progress: Callable[[str], None] | None = None) -> BuildReport:
        """Cluster the documents in scope (near-duplicates excluded from fitting), then give every stored
        document its topic: in-scope by the clustering, the rest by the fitted model's assignment."""
        scope = {"source": source, "since": since.isoformat() if since else None}
        build_id = self.store.start_build(scope)

        def step(name: str) -> None:
            self.store.heartbeat(build_id)  # lets another host tell a slow build from a dead one
            if progress is not None:
                progress(name)

        try:
            return self._build(build_id, source, since, step)
        except BaseException as exc:
            self.store.finish_build(build_id, status="failed", error=_failure_reason(exc))
            publish_current_model(self.settings, self.store)  # removes this build's model file
            raise

    def _build(self, build_id: int, source: str | None, since: datetime | None,
               progress: Callable[[str], None] | None) -> BuildReport:
        c = documents.c
        rows = list(self._rows([c.id, c.tokens, c.text, c.source, c.created_at, c.near_duplicate_of, c.topic_id,
                                c.sentiment_label], []))
        in_scope = [_shapes_topics(row, source, since) for row in rows]
        fit_rows = [row for row, keep in zip(rows, in_scope, strict=True) if keep]
        if not fit_rows:
            raise ValueError("no documents in scope: ingest some first, or widen --source/--since")
        model = build_model(self.settings, self.voc.tokenizer.part_of_speech)
        fit = model.fit([row.tokens.split() for row in fit_rows], [row.text for row in fit_rows], progress)
        rest = [row for row, keep in zip(rows, in_scope, strict=True) if not keep]
        rest_labels, _ = model.assign([row.tokens.split() for row in rest], [row.text for row in rest])
        assigned = dict(zip((row.id for row in fit_rows), fit.labels.tolist(), strict=True))
        assigned.update(zip((row.id for row in rest), rest_labels.tolist(), strict=True))

        old_members: dict[int, set[str]] = {}
        for row in rows:
            if row.topic_id is not None and row.topic_id >= 0:
                old_members.setdefault(row.topic_id, set()).add(row.id)
        new_members = [{fit_rows[i].id for i in topic.members} for topic in fit.topics]
        stable = match_topic_ids(new_members, old_members, self.store.next_id())
        topics = self._topics(fit, stable, rows, assigned)
        # The model is written first under its build's name; one transaction then commits assignments,
        # topics and "this build is done" (which makes it current); only then is the model published.
        model_files.save_build_model(model_path(self.settings).parent, build_id,
                                     {"model": model, "topic_ids": stable, "labels": [t.label for t in topics],
                                      "build_id": build_id})
        _fault_point("model-saved")
        hierarchy = _stable_hierarchy(fit.hierarchy, stable)
        with self.voc.store.engine.begin() as conn:
            self._write_assignments(conn, rows, assigned, stable, {t.id: t.label for t in topics})
            self.store.replace_topics(conn, build_id, topics)
            self.store.finish_build(build_id, status="done", conn=conn, n_documents=len(fit_rows),
                                    n_topics=len(topics), outlier_share=fit.outlier_share, timings=fit.timings,
                                    hierarchy=hierarchy)
        _fault_point("committed")
        publish_current_model(self.settings, self.store)
        carried = len(set(stable) & set(old_members))
        return BuildReport(build_id, len(fit_rows), len(topics), round(fit.outlier_share, 4), carried,
                           len(topics) - carried, len(set(old_members) - set(stable)), fit.timings)

    def _topics(self, fit: TopicFit, stable: list[int], rows: list[Any], assigned: dict[str, int]) -> list[Topic]:
        sizes = np.zeros(len(stable), dtype=np.int64)
        negatives = np.zeros(len(stable), dtype=np.int64)
        for row in rows:
            index = assigned[row.id]
            if index >= 0:
                sizes[index] += 1
                negatives[index] += row.sentiment_label == "negative"
        return [Topic(stable[t.index], t.label, t.keywords, int(sizes[t.index]),
                      round(float(negatives[t.index] / max(sizes[t.index], 1)), 4), t.quotes)
                for t in fit.topics]

    @staticmethod
    def _write_assignments(conn: Connection, rows: list[Any], assigned: dict[str, int], stable: list[int],
                           labels: dict[int, str]) -> None:
        changes = []
        for row in rows:
            index = assigned[row.id]
            topic_id = stable[index] if index >= 0 else -1
            if topic_id != row.topic_id:
                changes.append({"doc_id": row.id, "topic_id": topic_id, "topic_label": labels.get(topic_id)})
        statement = (update(documents).where(documents.c.id == bindparam("doc_id"))
                     .values(topic_id=bindparam("topic_id"), topic_label=bindparam("topic_label"), indexed=False))
        for start in range(0, len(changes), _WRITE_BATCH):
            conn.execute(statement, changes[start:start + _WRITE_BATCH])

    # -- reading ------------------------------------------------------------------------------

    def mentions(self, topic_id: int | None = None) -> Iterator[trends.Mention]:
        c = documents.c
        conditions = [c.created_at.is_not(None), c.topic_id >= 0]
        if topic_id is not None:
            conditions.append(c.topic_id == topic_id)
        for row in self._rows([c.topic_id, c.created_at, c.sentiment_label], conditions):
            yield trends.Mention(row.topic_id, row.created_at, row.sentiment_label == "negative")

    def status(self) -> dict[str, Any]:
        """The current build and the recent ones, with why any failed (stale ones already cleared)."""
        self.cleared_builds += self.store.clear_stale_builds()
        current = self.store.latest_build()
        return {"current_build": current["id"] if current else None,
                "builds": [{key: build[key] for key in ("id", "status", "started_at", "finished_at", "n_documents",
                                                        "n_topics", "error")}
                           for build in self.store.recent_builds()]}

    def list_topics(self) -> list[Topic]:
        return self.store.list_topics()

    def topic(self, topic_id: int, interval: str = "week") -> dict[str, Any] | None:
        topic = self.store.get(topic_id)
        if topic is None:
            return None
        return {**topic.to_dict(), "trend": trends.trend(self.mentions(topic_id), interval)}

    def trend(self, topic_id: int, interval: str = "day") -> list[dict[str, Any]]:
        return trends.trend(self.mentions(topic_id), interval)

    def emerging(self, **options: Any) -> list[dict[str, Any]]:
        labels = {topic.id: topic.label for topic in self.store.list_topics()}
        found = trends.emerging(self.mentions(), **options)
        return [{**item, "label": labels.get(item["topic_id"], "")} for item in found if item["topic_id"] in labels]

    def hierarchy(self) -> list[dict[str, Any]]:
        build = self.store.latest_build()
        return list(build["hierarchy"] or []) if build else []


def _failure_reason(exc: BaseException) -> str:
    """What a failed build records: bad-input messages are voc's own; other errors by type only, since
    their text could quote a document."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, ValueError | BuildCleared):
        return str(exc)[:300]
    return f"{type(exc).__name__} (see the build's log)"


def _shapes_topics(row: Any, source: str | None, since: datetime | None) -> bool:
    """In the build's scope and not a copy: copies would make their own dense little topics."""
    if row.near_duplicate_of is not None or (source is not None and row.source != source):
        return False
    return since is None or (row.created_at is not None and row.created_at >= since)


def _stable_hierarchy(merges: list[dict[str, Any]], stable: list[int]) -> list[dict[str, Any]]:
    def rename(name: str) -> str:
        return f"t{stable[int(name[1:])]}" if name.startswith("t") else name

    return [{**merge, "children": [rename(child) for child in merge["children"]],
             "topics": sorted(stable[i] for i in merge["topics"])} for merge in merges]
