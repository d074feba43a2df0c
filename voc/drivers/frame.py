"""The population a driver analysis works on: documents chosen by search ``Filters``, their score, rating
and sentiment, and which themes (topics or indicators) each mentions, and how.

Everything that decides *which* documents count passes through :func:`load_frame` and the ``Filters`` it
is given: a caller restricting what a user may see (a data scope) narrows that one object, nothing else.
The store is read directly (not the search index): the analysis needs every matching document's
numbers, not ranked hits, and the store is the source of truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import sparse
from sqlalchemy import Engine, select

from indexing import Filters
from indexing.base import nps_group
from voc.store import documents, tags

Grouping = Literal["topic", "indicator"]
GROUPINGS: tuple[str, ...] = ("topic", "indicator")
SENTIMENT_VALUES = {"negative": -1, "neutral": 0, "positive": 1}
BATCH = 5000
nan = float("nan")


class DriverError(ValueError):
    """A request the analysis cannot answer as asked (no indicator system, an unknown grouping)."""


@dataclass(frozen=True, slots=True)
class Theme:
    key: str  # topic id or indicator id, as text
    label: str


@dataclass(slots=True)
class ThemeFrame:
    """One row per document; ``present``/``negative`` are documents × themes (sparse, 0/1)."""

    ids: list[str]
    source: np.ndarray  # str
    score: np.ndarray  # survey score 0-10, NaN where the document has none
    rating: np.ndarray  # star rating 1-5, NaN where none
    sentiment: np.ndarray  # -1/0/1, NaN where not analysed
    themes: list[Theme]
    present: sparse.csr_matrix
    negative: sparse.csr_matrix
    near_duplicates: int = 0  # left out: a pasted copy is one voice, not two
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


# Every Filters field the population honours (exclude_near_duplicates: always, as if set). A field added to
# Filters and not here fails tests/test_drivers.py rather than being silently ignored by drivers.
HANDLED_FILTERS = frozenset({
    "source", "channel", "industry", "product", "store", "sentiment", "topic", "tags", "ids", "since", "until",
    "exclude_near_duplicates", "rating_min", "rating_max", "score_min", "score_max", "nps"})


def sql_conditions(filters: Filters) -> list[Any]:
    """The filters the documents table can answer in SQL; the meta-held numbers (and long id lists) follow
    in Python."""
    c = documents.c
    conditions: list[Any] = []
    for name, column in (("source", c.source), ("channel", c.channel), ("industry", c.industry),
                         ("product", c.product), ("store", c.store), ("sentiment", c.sentiment_label),
                         ("topic", c.topic_id)):
        values = getattr(filters, name)
        if values:
            conditions.append(column.in_(list(values)))
    if filters.since is not None:
        conditions.append(c.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(c.created_at <= filters.until)
    # a few ids (words that match a handful): read only those; longer lists, past what one statement should
    # bind, are checked in Python while reading
    if 0 < len(filters.ids) <= 900:
        conditions.append(c.id.in_(list(filters.ids)))
    for tag in filters.tags:  # every tag listed must be present, as in search
        conditions.append(c.id.in_(select(tags.c.document_id).where(tags.c.tag == tag)))
    return conditions


def number_mask(filters: Filters, score: np.ndarray, rating: np.ndarray) -> np.ndarray:
    """The rating, score and NPS-group filters; a document without the number never matches a bound."""
    keep = np.ones(len(score), dtype=bool)
    with np.errstate(invalid="ignore"):
        for values, low, high in ((rating, filters.rating_min, filters.rating_max),
                                  (score, filters.score_min, filters.score_max)):
            if low is not None:
                keep &= values >= low
            if high is not None:
                keep &= values <= high
    if filters.nps:
        groups = np.array([nps_group(None if np.isnan(s) else float(s)) for s in score], dtype=object)
        keep &= np.isin(groups, list(filters.nps))
    return keep


def _rows(engine: Engine, filters: Filters) -> Iterator[list[Any]]:
    """Matching rows in id order, keyset batches (memory flat, no long-held read transaction)."""
    c = documents.c
    # the two numbers read out of meta by the database: parsing 100k JSON documents in Python was most of
    # the read; a value stored as something other than a number is rejected at ingest (voc.ingest.records)
    columns = (c.id, c.source, c.meta["score"].as_float().label("score"), c.meta["rating"].as_float().label("rating"),
               c.sentiment_label, c.topic_id, c.topic_label, c.near_duplicate_of)
    conditions = sql_conditions(filters)
    last = ""
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(*columns).where(c.id > last, *conditions).order_by(c.id).limit(BATCH)).all()
        if not rows:
            return
        last = rows[-1].id
        yield rows


def load_frame(engine: Engine, filters: Filters, by: Grouping, *, indicator_version: int | None = None) -> ThemeFrame:
    """The documents ``filters`` select (near-duplicate copies left out), with their themes ``by`` topic
    or indicator (the mapping of ``indicator_version``, the newest by default)."""
    if by not in GROUPINGS:
        raise DriverError(f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}")
    wanted_ids = set(filters.ids) if filters.ids else None
    ids: list[str] = []
    source: list[str] = []
    score: list[float] = []
    rating: list[float] = []
    sentiment: list[float] = []
    topics: list[tuple[int, str | None]] = []
    near = 0
    for batch in _rows(engine, filters):
        for row in batch:
            if wanted_ids is not None and row.id not in wanted_ids:
                continue
            if row.near_duplicate_of:
                near += 1
                continue
            ids.append(row.id)
            source.append(row.source)
            score.append(nan if row.score is None else row.score)
            rating.append(nan if row.rating is None else row.rating)
            sentiment.append(SENTIMENT_VALUES.get(row.sentiment_label or "", nan))
            topics.append((row.topic_id if row.topic_id is not None else -1, row.topic_label))
    score_a, rating_a = np.array(score, dtype=float), np.array(rating, dtype=float)
    keep = number_mask(filters, score_a, rating_a)
    index = np.flatnonzero(keep)
    ids = [ids[i] for i in index]
    topics = [topics[i] for i in index]
    sentiment_a = np.array(sentiment, dtype=float)[index]
    if by == "topic":
        themes, present, negative = _topic_themes(topics, sentiment_a)
        notes = [] if any(t >= 0 for t, _ in topics) or not ids else [
            "no document has a topic yet: build topics first (voc topics build)"]
    else:
        themes, present, negative, notes = _indicator_themes(engine, ids, indicator_version)
    return ThemeFrame(ids=ids, source=np.array(source, dtype=object)[index], score=score_a[index],
                      rating=rating_a[index], sentiment=sentiment_a, themes=themes, present=present,
                      negative=negative, near_duplicates=near, notes=notes)


def _matrix(rows: list[int], cols: list[int], n: int, t: int) -> sparse.csr_matrix:
    data = np.ones(len(rows), dtype=np.int8)
    matrix = sparse.csr_matrix((data, (rows, cols)), shape=(n, t))
    matrix.data[:] = 1  # a theme mentioned twice in a document counts once
    return matrix


def _topic_themes(topics: list[tuple[int, str | None]],
                  sentiment: np.ndarray) -> tuple[list[Theme], sparse.csr_matrix, sparse.csr_matrix]:
    """One topic per document (outliers, -1, belong to none); a topic is mentioned negatively where its
    document is negative."""
    labels: dict[int, str] = {}
    for topic_id, label in topics:
        if topic_id >= 0:
            labels.setdefault(topic_id, label or f"topic {topic_id}")
    order = sorted(labels)
    column = {topic_id: j for j, topic_id in enumerate(order)}
    rows = [i for i, (topic_id, _) in enumerate(topics) if topic_id >= 0]
    cols = [column[topics[i][0]] for i in rows]
    neg_rows = [i for i in rows if sentiment[i] == -1]
    neg_cols = [column[topics[i][0]] for i in neg_rows]
    n, t = len(topics), len(order)
    return ([Theme(str(topic_id), labels[topic_id]) for topic_id in order], _matrix(rows, cols, n, t),
            _matrix(neg_rows, neg_cols, n, t))


def _indicator_themes(engine: Engine, ids: list[str], version: int | None
                      ) -> tuple[list[Theme], sparse.csr_matrix, sparse.csr_matrix, list[str]]:
    """Indicator mentions of the mapping of one tree version; a mention's own polarity (what was said
    about that indicator) says whether it is negative."""
    from voc.indicators.store import IndicatorStore
    from voc.indicators.tables import indicator_mapped, indicator_mentions

    store = IndicatorStore(engine)
    with engine.connect() as conn:
        tree = store.tree(conn, version)
        if tree is None:
            raise DriverError("no indicator system yet: import one with `voc indicators import FILE` or "
                              "`--template NAME`, or group by topic")
        mapped = set(conn.scalars(select(indicator_mapped.c.document_id)
                                  .where(indicator_mapped.c.version == tree.version)))
        mentions = conn.execute(select(indicator_mentions.c.document_id, indicator_mentions.c.indicator_id,
                                       indicator_mentions.c.polarity)
                                .where(indicator_mentions.c.version == tree.version)).all()
    row_of = {doc_id: i for i, doc_id in enumerate(ids)}
    names = {loc.node.id: " / ".join(loc.path) for loc in tree.walk()}
    order = sorted({indicator for doc_id, indicator, _ in mentions if doc_id in row_of and indicator in names})
    column = {indicator: j for j, indicator in enumerate(order)}
    rows, cols, neg_rows, neg_cols = [], [], [], []
    for doc_id, indicator, polarity in mentions:
        i, j = row_of.get(doc_id), column.get(indicator)
        if i is None or j is None:
            continue
        rows.append(i)
        cols.append(j)
        if polarity == "negative":
            neg_rows.append(i)
            neg_cols.append(j)
    notes = []
    unmapped = sum(1 for doc_id in ids if doc_id not in mapped)
    if unmapped:
        notes.append(f"{unmapped} documents are not mapped to indicator system version {tree.version} yet "
                     "(counted as mentioning no indicator); map them with `voc indicators coverage`")
    n, t = len(ids), len(order)
    return ([Theme(key, names[key]) for key in order], _matrix(rows, cols, n, t),
            _matrix(neg_rows, neg_cols, n, t), notes)
