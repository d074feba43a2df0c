"""Topic builds over the document store: fit, keep ids stable, write topics back, trends, emerging."""

from __future__ import annotations

import logging
import os
import signal
from array import array
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
from voc.topics.reduction import SpectralReducer
from voc.topics.refinement import CrossFitRefiner
from voc.topics.sampling import Batch, assign_batches, stratified_sample, stratum_key
from voc.topics.store import BuildCleared, Topic, TopicStore

MATCH_MIN_JACCARD = 0.2  # an old topic keeps its id when at least this share of the union is shared
_WRITE_BATCH = 2000
_NO_TOPIC_YET = -2  # a document never given a topic (NULL): it is written even when it becomes an outlier (-1)
# Test-only fault injection, a plain environment setting: a build SIGKILLs its own process at the named
# point ("model-saved": model file written, nothing committed; "committed": committed, model not yet
# published), so tests can prove that no point leaves topics and model from different builds.
KILL_AT_ENV = "VOC_TOPICS_KILL_AT"

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BuildReport:
    build_id: int
    n_documents: int  # in the build's scope
    n_fitted: int     # clustered: all in scope, or the stratified sample of a sampled build
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
                      reducer=SpectralReducer(ann_min_docs=settings.topic_ann_min_docs, threads=settings.worker_count),
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
    shared = {(row, col): len(members & old_members[old_id])
              for row, members in enumerate(new_members) for col, old_id in enumerate(old_ids)}
    return _match(np.array([len(m) for m in new_members]), old_ids,
                  np.array([len(old_members[i]) for i in old_ids]), shared, next_id)


def match_topic_ids_by_counts(labels: np.ndarray, old_topics: np.ndarray, next_id: int) -> list[int]:
    """``match_topic_ids`` from two label arrays over the same documents (new topic index, old topic id;
    -1 for none): overlaps are counted, not kept as sets of ids, so a million documents cost two arrays."""
    count = int(labels.max()) + 1 if labels.size else 0
    had_topic = old_topics >= 0
    old_ids, old_column = np.unique(old_topics[had_topic], return_inverse=True)
    column = np.full(old_topics.shape, -1, dtype=np.int64)
    column[had_topic] = old_column
    both = (labels >= 0) & had_topic
    pair_code = labels[both] * max(old_ids.size, 1) + column[both]
    codes, shared = np.unique(pair_code, return_counts=True)
    overlaps = {divmod(int(code), max(old_ids.size, 1)): int(n) for code, n in zip(codes, shared, strict=True)}
    return _match(np.bincount(labels[labels >= 0], minlength=count), old_ids.tolist(),
                  np.bincount(old_column, minlength=old_ids.size), overlaps, next_id)


def _match(new_sizes: np.ndarray, old_ids: list[int], old_sizes: np.ndarray, shared: dict[tuple[int, int], int],
           next_id: int) -> list[int]:
    ids = [-1] * len(new_sizes)
    if old_ids and len(new_sizes):
        jaccard = np.zeros((len(new_sizes), len(old_ids)))
        for (row, col), overlap in shared.items():
            if overlap:
                jaccard[row, col] = overlap / (new_sizes[row] + old_sizes[col] - overlap)
        for row, col in zip(*linear_sum_assignment(-jaccard), strict=True):
            if jaccard[row, col] >= MATCH_MIN_JACCARD:
                ids[row] = old_ids[col]
    for row, value in enumerate(ids):
        if value < 0:
            ids[row] = next_id
            next_id += 1
    return ids


def _topics(fit: TopicFit, stable: list[int], fit_texts: list[str], labels: np.ndarray, negative: np.ndarray
            ) -> list[Topic]:
    """Topics with their size and negative share over every document assigned to them."""
    assigned = labels >= 0
    sizes = np.bincount(labels[assigned], minlength=len(stable))
    negatives = np.bincount(labels[assigned & negative], minlength=len(stable))
    return [Topic(stable[t.index], t.label, t.keywords, int(sizes[t.index]),
                  round(float(negatives[t.index] / max(sizes[t.index], 1)), 4), t.quotes)
            for t in fit.topics]


def _write_assignments(conn: Connection, ids: list[str], old: np.ndarray, labels: np.ndarray, stable: list[int],
                       names: dict[int, str]) -> None:
    """Write the documents whose topic changed, ``_WRITE_BATCH`` at a time."""
    topic_ids = np.where(labels >= 0, np.asarray([*stable, -1], dtype=np.int64)[labels], -1)
    changed = np.flatnonzero(topic_ids != old)
    statement = (update(documents).where(documents.c.id == bindparam("doc_id"))
                 .values(topic_id=bindparam("topic_id"), topic_label=bindparam("topic_label"), indexed=False))
    for start in range(0, changed.size, _WRITE_BATCH):
        conn.execute(statement, [{"doc_id": ids[i], "topic_id": int(topic_ids[i]),
                                  "topic_label": names.get(int(topic_ids[i]))}
                                 for i in changed[start:start + _WRITE_BATCH]])


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

    def _rows(self, columns: list[Any], conditions: list[Any], order_by: Any = None) -> Iterator[Any]:
        query = select(*columns).where(and_(*conditions)) if conditions else select(*columns)
        if order_by is not None:
            query = query.order_by(order_by)
        with self.voc.store.engine.connect() as conn:
            yield from conn.execution_options(stream_results=True, yield_per=5000).execute(query)

    def build(self, *, source: str | None = None, since: datetime | None = None, sample: int | None = None,
              progress: Callable[[str], None] | None = None) -> BuildReport:
        """Cluster the documents in scope (near-duplicates excluded from fitting), then give every stored
        document its topic: fitted ones by the clustering, the rest by the fitted model's assignment.

        Above ``VOC_TOPIC_SAMPLE_THRESHOLD`` documents in scope (or with ``sample``, at any size) the fit
        sees a stratified sample of ``sample`` (default ``VOC_TOPIC_SAMPLE_SIZE``) documents and the
        rest are assigned in batches of ``VOC_TOPIC_ASSIGN_BATCH``, streamed from the store."""
        if sample is not None and sample < 1:
            raise ValueError("--sample must be a positive number of documents")
        scope = {"source": source, "since": since.isoformat() if since else None}
        build_id = self.store.start_build(scope)

        def step(name: str) -> None:
            self.store.heartbeat(build_id)  # lets another host tell a slow build from a dead one
            if progress is not None:
                progress(name)

        try:
            return self._build(build_id, source, since, sample, step)
        except BaseException as exc:
            self.store.finish_build(build_id, status="failed", error=_failure_reason(exc))
            publish_current_model(self.settings, self.store)  # removes this build's model file
            raise

    def _build(self, build_id: int, source: str | None, since: datetime | None, sample: int | None,
               progress: Callable[[str], None]) -> BuildReport:
        c = documents.c
        # Pass 1, light columns only: which documents are in scope, their strata and their current topics.
        # Ordered by id, so the sample depends on the documents and the seed, not on the storage order.
        ids: list[str] = []
        old = array("q")
        scoped = array("q")
        keys: list[str] = []
        for row in self._rows([c.id, c.source, c.created_at, c.industry, c.near_duplicate_of, c.topic_id], [],
                              order_by=c.id):
            if _shapes_topics(row, source, since):
                scoped.append(len(ids))
                keys.append(stratum_key(row.created_at, row.source, row.industry))
            ids.append(row.id)
            old.append(_NO_TOPIC_YET if row.topic_id is None else row.topic_id)
        if not scoped:
            raise ValueError("no documents in scope: ingest some first, or widen --source/--since")
        position = {doc_id: index for index, doc_id in enumerate(ids)}
        in_scope = np.frombuffer(scoped, dtype=np.int64)
        size = sample or (self.settings.topic_sample_size if in_scope.size > self.settings.topic_sample_threshold
                          else in_scope.size)
        fitted = in_scope[stratified_sample(keys, size, min_per_stratum=self.settings.topic_sample_min_per_stratum,
                                            seed=self.settings.topic_sample_seed)]
        del keys
        # Pass 2: the texts of the fitted documents only.
        is_fitted = np.zeros(len(ids), dtype=bool)
        is_fitted[fitted] = True
        fit_docs: dict[int, tuple[list[str], str]] = {}
        for row in self._rows([c.id, c.tokens, c.text], []):
            index = position.get(row.id)  # None: ingested after pass 1 (it has its ingest-time topic)
            if index is not None and is_fitted[index]:
                fit_docs[index] = (row.tokens.split(), row.text)
        fitted = np.array(sorted(fit_docs), dtype=np.int64)  # a document deleted meanwhile is not fitted
        if not fitted.size:
            raise ValueError("no documents in scope: they were deleted while the build ran")
        model = build_model(self.settings, self.voc.tokenizer.part_of_speech)
        fit = model.fit([fit_docs[i][0] for i in fitted], [fit_docs[i][1] for i in fitted], progress)
        fit_texts = [fit_docs[i][1] for i in fitted]
        del fit_docs
        # Pass 3: every document, a batch at a time: its topic, and whether it counts as negative.
        labels = np.full(len(ids), -1, dtype=np.int64)
        negative = np.zeros(len(ids), dtype=bool)
        batches = self._assign_batches(position, negative, is_fitted)
        for positions, found in assign_batches(model, batches, fitted, fit.labels, len(ids), progress):
            labels[positions] = found

        old_ids = np.frombuffer(old, dtype=np.int64)
        stable = match_topic_ids_by_counts(labels, old_ids, self.store.next_id())
        topics = _topics(fit, stable, fit_texts, labels, negative)
        outlier_share = float((labels[in_scope] < 0).mean())
        # The model is written first under its build's name; one transaction then commits assignments,
        # topics and "this build is done" (which makes it current); only then is the model published.
        model_files.save_build_model(model_path(self.settings).parent, build_id,
                                     {"model": model, "topic_ids": stable, "labels": [t.label for t in topics],
                                      "build_id": build_id})
        _fault_point("model-saved")
        hierarchy = _stable_hierarchy(fit.hierarchy, stable)
        with self.voc.store.engine.begin() as conn:
            _write_assignments(conn, ids, old_ids, labels, stable, {t.id: t.label for t in topics})
            self.store.replace_topics(conn, build_id, topics)
            self.store.finish_build(build_id, status="done", conn=conn, n_documents=int(in_scope.size),
                                    n_topics=len(topics), outlier_share=outlier_share, timings=fit.timings,
                                    hierarchy=hierarchy)
        _fault_point("committed")
        publish_current_model(self.settings, self.store)
        old_topics = set(np.unique(old_ids[old_ids >= 0]).tolist())
        carried = len(set(stable) & old_topics)
        return BuildReport(build_id, int(in_scope.size), int(fitted.size), len(topics), round(outlier_share, 4),
                           carried, len(topics) - carried, len(old_topics - set(stable)), fit.timings)

    def _assign_batches(self, position: dict[str, int], negative: np.ndarray, is_fitted: np.ndarray
                        ) -> Iterator[Batch]:
        """Every stored document in batches of ``VOC_TOPIC_ASSIGN_BATCH``; a fitted one without its tokens
        (the fit already labelled it), so only one batch of texts is held at a time."""
        c = documents.c
        positions: list[int] = []
        tokens: list[list[str]] = []
        texts: list[str] = []
        for row in self._rows([c.id, c.tokens, c.text, c.sentiment_label], []):
            index = position.get(row.id)
            if index is None:
                continue
            negative[index] = row.sentiment_label == "negative"
            positions.append(index)
            fitted = is_fitted[index]
            tokens.append([] if fitted else row.tokens.split())
            texts.append("" if fitted else row.text)
            if len(positions) >= self.settings.topic_assign_batch:
                yield np.array(positions), tokens, texts
                positions, tokens, texts = [], [], []
        if positions:
            yield np.array(positions), tokens, texts

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
