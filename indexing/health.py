"""Is the search index in step with the document store? Said by `voc index status`, `/readyz` and search.

The store marks a document indexed only after the index took it, and takes documents out of the index
only after taking them out of the store, so at any moment the index holds at least as many documents
as the store has marked indexed. Fewer means the index lost some: its file was deleted, emptied or
replaced, or an Elasticsearch index was dropped and recreated empty. Such an index must not pass for
a sound one (search would quietly find nothing): the answer is to rebuild it from the store.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from indexing import BackendUnavailable
from indexing.damage import IndexDamaged

if TYPE_CHECKING:
    from voc.service import Voc
    from voc.store import DocumentStore

log = logging.getLogger(__name__)
OK_VALID_S = 2.0  # a sound answer is reused this long by search; a problem is checked again every time


@dataclass(frozen=True, slots=True)
class IndexHealth:
    problem: str | None  # None when sound; else one line for people, with no document content
    marked_indexed: int | None = None  # documents the store has marked indexed
    in_index: int | None = None  # documents the index holds
    # Fields its older documents lack (built by an earlier release): search works, but matches on
    # characters (grams) and the rating/score filters miss those documents until `voc index rebuild`.
    stale_fields: tuple[str, ...] = ()

    @property
    def note(self) -> str | None:
        if not self.stale_fields:
            return None
        return (f"the search index was built by an earlier release: its documents lack {', '.join(self.stale_fields)}"
                "; run `voc index rebuild` so that every document is found by its characters and by rating/score")

    @property
    def ok(self) -> bool:
        return self.problem is None


def marked_indexed(store: DocumentStore) -> int:
    from sqlalchemy import func, select

    from voc.store import documents

    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(documents).where(documents.c.indexed.is_(True)))
                   or 0)


def check_index(voc: Voc) -> IndexHealth:
    """Whether the index can be opened and holds every document the store says it does."""
    voc = getattr(voc, "unscoped", voc)  # a scoped view counts only its part: compare the whole index
    try:
        expected = marked_indexed(voc.store)  # the store first: the index can only gain meanwhile
        held = voc.index.count()
    except IndexDamaged as exc:
        return IndexHealth(str(exc))
    except BackendUnavailable:
        log.warning("index health: the search index is unreachable", exc_info=True)
        return IndexHealth("the search index is unreachable")  # its own message may name hosts: logged
    if held < expected:
        return IndexHealth(
            f"the search index holds {held:,} documents but the store has {expected:,} marked as indexed: "
            "it was deleted, emptied or replaced (or a rebuild is running); run `voc index rebuild`",
            expected, held)
    return IndexHealth(None, expected, held, tuple(voc.index.stale_fields))


_recent_ok: weakref.WeakKeyDictionary[Voc, float] = weakref.WeakKeyDictionary()
_recent_lock = threading.Lock()


def check_index_cached(voc: Voc) -> IndexHealth:
    """check_index for every search, without two counts per search: a sound answer holds briefly."""
    now = time.monotonic()
    with _recent_lock:
        checked_at = _recent_ok.get(voc)
    if checked_at is not None and now - checked_at < OK_VALID_S:
        return IndexHealth(None)
    health = check_index(voc)
    with _recent_lock:
        if health.ok:
            _recent_ok[voc] = now
        else:
            _recent_ok.pop(voc, None)
    return health
