"""Topic builds at scale: fit on a stratified sample, then assign every document in bounded batches.

An exact topic fit costs time and memory that grow with the square of the documents (the k-NN graph,
HDBSCAN's core distances); BERTopic's users hit the same wall and its maintainer's advice is to fit on a
subset and assign the rest. The subset must still show every kind of feedback: documents are grouped
into strata (month × source × industry), each non-empty stratum gets a minimum (a new product line, a
quiet month, a small channel still get documents to form their topics from) and the rest of the sample
is allocated in proportion to the strata's sizes. The sample is a pure function of the strata and the
seed, so the same store and seed give the same sample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

import numpy as np

from voc.topics.model import FIT_STEPS, TopicModel

ASSIGN_TICKS = 10  # progress reports of the assignment pass: one per tenth of the documents
BUILD_STEPS = len(FIT_STEPS) + ASSIGN_TICKS  # progress reports of a whole build (a job's or a bar's total)


def stratum_key(created_at: datetime | None, source: str | None, industry: str | None) -> str:
    """Month × source × industry ("" for a missing part: undated documents are a stratum of their own)."""
    month = created_at.strftime("%Y-%m") if created_at is not None else ""
    return f"{month}\x1f{source or ''}\x1f{industry or ''}"


def allocate(counts: np.ndarray, size: int, min_per_stratum: int) -> np.ndarray:
    """How many documents each stratum gives: its proportional share of ``size``, but at least
    ``min_per_stratum`` (or all it has); strata raised to the minimum are paid for by the others, in
    proportion (largest remainder). With more strata than the minimum allows, every stratum still gives
    one document, so the sample can then exceed ``size``."""
    counts = np.asarray(counts, dtype=np.int64)
    if size >= counts.sum():
        return counts.copy()
    floor = np.minimum(counts, min_per_stratum)
    if floor.sum() > size:
        floor = np.minimum(counts, 1)
    at_floor = np.zeros(counts.size, dtype=bool)
    while True:  # at most one round per stratum: each round fixes at least one more at its floor
        rest = size - int(floor[at_floor].sum())
        free = ~at_floor
        quota = np.zeros(counts.size)
        if rest > 0 and counts[free].sum():
            quota[free] = rest * counts[free] / counts[free].sum()
        below = free & (quota < floor)
        if not below.any():
            break
        at_floor |= below
    taken = np.where(at_floor, floor, np.floor(quota)).astype(np.int64)
    short = size - int(taken.sum())
    if short > 0:
        # the largest fractional parts get one more; ties broken by stratum order (deterministic)
        order = np.lexsort((np.arange(counts.size), -np.where(at_floor, -1.0, quota - np.floor(quota))))
        taken[order[:short]] += 1
    return np.minimum(taken, counts)


def stratified_sample(keys: Sequence[str], size: int, *, min_per_stratum: int, seed: int) -> np.ndarray:
    """Sorted positions into ``keys`` of a stratified random sample of about ``size`` documents."""
    if size >= len(keys):
        return np.arange(len(keys))
    _, inverse, counts = np.unique(np.asarray(keys, dtype=object).astype(str), return_inverse=True,
                                        return_counts=True)
    taken = allocate(counts, size, min_per_stratum)
    members = np.argsort(inverse, kind="stable")  # positions grouped by stratum, in stratum order
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(members[start:start + count], take, replace=False)
              for start, count, take in zip(starts, counts, taken, strict=True) if take]
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


Batch = tuple[np.ndarray, Sequence[list[str]], Sequence[str]]  # positions, tokens, texts


def assign_batches(model: TopicModel, batches: Iterable[Batch], fitted: np.ndarray, fit_labels: np.ndarray,
                   total: int, progress: Callable[[str], None] | None = None
                   ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Topic index per document of each batch: the fit's own label for a fitted document (``fitted`` holds
    the sorted positions the fit saw, ``fit_labels`` their labels), the model's assignment (refinement
    classifier, nearest centre, outlier threshold) for every other one. Yields ``(positions, labels)``;
    only one batch of tokens and vectors is held at a time. Reports "assign" ``ASSIGN_TICKS`` times."""
    done = ticks = 0
    for positions, tokens, texts in batches:
        positions = np.asarray(positions, dtype=np.int64)
        labels = np.full(positions.size, -1, dtype=np.int64)
        where = np.searchsorted(fitted, positions)
        is_fitted = (where < fitted.size) & (fitted[np.minimum(where, max(fitted.size - 1, 0))] == positions)
        labels[is_fitted] = fit_labels[where[is_fitted]]
        rest = np.flatnonzero(~is_fitted)
        if rest.size:
            labels[rest], _ = model.assign([tokens[i] for i in rest], [texts[i] for i in rest])
        yield positions, labels
        done += positions.size
        while progress is not None and ticks < ASSIGN_TICKS and done * ASSIGN_TICKS >= total * (ticks + 1):
            ticks += 1
            progress("assign")
    while progress is not None and ticks < ASSIGN_TICKS:  # fewer documents than announced (deleted meanwhile)
        ticks += 1
        progress("assign")
