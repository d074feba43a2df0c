"""The routers, one module per area. The app factory includes these lists in order; a new area adds its
router to ``V1_ROUTERS`` and picks a permission from api.auth."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import (
    alerts,
    analyze,
    documents,
    drivers,
    health,
    indicator_examples,
    indicators,
    jobs,
    me,
    org,
    search,
    suggestions,
    tags,
    tickets,
    topics,
    ui,
    upload,
)

# Under /v1, behind an API key.
V1_ROUTERS: list[APIRouter] = [
    analyze.router,
    upload.router,  # before documents: /documents/upload must not be read as /documents/{doc_id}
    documents.router,
    search.router,
    tags.router,
    topics.router,
    drivers.router,
    indicators.router,
    indicator_examples.router,
    suggestions.router,
    tickets.router,
    alerts.router,
    jobs.router,
    me.router,
    org.router,
]
# At the root, without a key.
ROOT_ROUTERS: list[APIRouter] = [health.router, ui.router]  # ui: the web UI at /, not in the schema
