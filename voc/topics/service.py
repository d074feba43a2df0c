"""Topic builds over the document store: fit, keep ids stable, write topics back, trends, emerging."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from scipy.optimize import linear_sum_assignment
from sqlalchemy import and_, bindparam, select, update

from voc.settings import VocSettings
from voc.store import documents
from voc.topics import trends
from voc.topics.clustering import HdbscanClusterer
from voc.topics.embedding import make_embedder
from voc.topics.model import TopicFit, TopicModel
from voc.topics.refinement import CrossFitRefiner
from voc.topics.store import Topic, TopicStore

MATCH_MIN_JACCARD = 0.2  # an old topic keeps its id when at least this share of the union is shared
_WRITE_BATCH = 2000


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
    return settings.home / "topics" / "model.joblib"


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
        try:
            return self._build(build_id, source, since, progress)
        except BaseException:
            self.store.finish_build(build_id, status="failed")
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
        self._write_assignments(rows, assigned, stable, {t.id: t.label for t in topics})
        self.store.replace_topics(build_id, topics)
        self._save_model(model, stable, [t.label for t in topics], build_id)
        hierarchy = _stable_hierarchy(fit.hierarchy, stable)
        self.store.finish_build(build_id, status="done", n_documents=len(fit_rows), n_topics=len(topics),
                                outlier_share=fit.outlier_share, timings=fit.timings, hierarchy=hierarchy)
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

    def _write_assignments(self, rows: list[Any], assigned: dict[str, int], stable: list[int],
                           labels: dict[int, str]) -> None:
        changes = []
        for row in rows:
            index = assigned[row.id]
            topic_id = stable[index] if index >= 0 else -1
            if topic_id != row.topic_id:
                changes.append({"doc_id": row.id, "topic_id": topic_id, "topic_label": labels.get(topic_id)})
        statement = (update(documents).where(documents.c.id == bindparam("doc_id"))
                     .values(topic_id=bindparam("topic_id"), topic_label=bindparam("topic_label"), indexed=False))
        with self.voc.store.engine.begin() as conn:  # one transaction: a failed build leaves old topics whole
            for start in range(0, len(changes), _WRITE_BATCH):
                conn.execute(statement, changes[start:start + _WRITE_BATCH])

    def _save_model(self, model: TopicModel, stable: list[int], labels: list[str], build_id: int) -> None:
        path = model_path(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(handle)
        joblib.dump({"model": model, "topic_ids": stable, "labels": labels, "build_id": build_id}, temporary)
        os.replace(temporary, path)  # ingest workers never see a half-written model

    # -- reading ------------------------------------------------------------------------------

    def mentions(self, topic_id: int | None = None) -> Iterator[trends.Mention]:
        c = documents.c
        conditions = [c.created_at.is_not(None), c.topic_id >= 0]
        if topic_id is not None:
            conditions.append(c.topic_id == topic_id)
        for row in self._rows([c.topic_id, c.created_at, c.sentiment_label], conditions):
            yield trends.Mention(row.topic_id, row.created_at, row.sentiment_label == "negative")

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
