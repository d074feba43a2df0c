"""Search backends behind one interface: the embedded index (default) and Elasticsearch."""

from __future__ import annotations

from indexing.base import (
    FACET_FIELDS,
    SORT_ORDERS,
    BulkReport,
    Filters,
    IndexRecord,
    SearchBackend,
    SearchHit,
    SearchQuery,
    SearchResult,
)
from voc.settings import VocSettings

__all__ = [
    "FACET_FIELDS",
    "SORT_ORDERS",
    "BulkReport",
    "Filters",
    "IndexRecord",
    "SearchBackend",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "open_backend",
]


class BackendUnavailable(RuntimeError):
    pass


def open_backend(settings: VocSettings) -> SearchBackend:
    """The backend the settings choose (``VOC_INDEX``)."""
    if settings.index == "embedded":
        from indexing.embedded import EmbeddedIndex

        return EmbeddedIndex(settings.embedded_index_path)
    from indexing.elasticsearch import ElasticsearchIndex

    return ElasticsearchIndex.from_settings(settings)
