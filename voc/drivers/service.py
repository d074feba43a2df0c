"""Drivers over a voc service's store, as the CLI and the REST API ask for them.

The indicator mapping is brought up to date first (documents ingested since the last mapping), so an
analysis by indicator never silently counts new documents as mentioning nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from indexing import Filters
from voc.drivers.analysis import DriverAnalysis, compute_drivers
from voc.drivers.frame import DriverError, Grouping
from voc.store import documents

if TYPE_CHECKING:
    from voc.indicators.service import IndicatorService
    from voc.service import Voc


NO_DOCUMENT = "\x00"  # an id no document has: an empty id list would mean "no restriction"


def matching(voc: Voc, filters: Filters, words: str | None) -> Filters:
    """``filters`` narrowed to the documents holding ``words`` (as search matches them, through the index)."""
    if not words or not words.strip():
        return filters
    ids = voc.index.ids_for(voc.build_query(words, filters=filters))
    return replace(filters, ids=ids or [NO_DOCUMENT])


def refresh_mapping(voc: Voc, indicators: IndicatorService | None = None) -> int:
    """Map documents the current indicator tree has not seen; returns how many were mapped (0: up to date)."""
    from voc.indicators.service import IndicatorNotFound, IndicatorService

    service = indicators or IndicatorService(voc)
    with voc.store.engine.connect() as conn:
        version = service.store.latest_version(conn)
        if not version:
            raise DriverError("no indicator system yet: import one with `voc indicators import FILE` or "
                              "`--template NAME`, or group by topic")
        # near-duplicate copies are never mapped (voc.indicators.corpus): compare with the rest only
        mappable = conn.scalar(select(func.count()).select_from(documents)
                               .where(documents.c.near_duplicate_of.is_(None))) or 0
        if service.store.mapped_count(conn, version) >= mappable:
            return 0
    try:
        return int(service.map_documents()["mapped"])
    except IndicatorNotFound as exc:
        raise DriverError(str(exc)) from None


def drivers(voc: Voc, filters: Filters | None = None, *, metric: str = "nps", by: Grouping = "topic",
            indicators: IndicatorService | None = None, progress: Callable[[str], None] | None = None,
            **options: Any) -> DriverAnalysis:
    """What drives ``metric`` among the documents ``filters`` select, by topic or by indicator."""
    if by == "indicator":
        if progress:
            progress("mapping new documents to indicators")
        refresh_mapping(voc, indicators)
    return compute_drivers(voc.store.engine, filters, metric=metric, by=by, progress=progress, **options)
