"""Schemathesis against the app: generated requests (valid and invalid) never get a 5xx, and every
response matches the OpenAPI schema the app serves (status codes, content types, bodies, headers)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from api_support import CORPUS, api_settings
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app

# Module-level because schemathesis builds its tests from the schema at collection time.
_home = Path(tempfile.mkdtemp(prefix="voc-schemathesis-")) / "home"
atexit.register(shutil.rmtree, _home.parent, True)
app = create_app(api_settings(_home, api_job_threshold_bytes=2_000))
ADMIN_KEY = app.state.voc_api.keys.create("admin", name="schemathesis")[0]
# A corpus to search and tag. Not `with TestClient(app)`: its exit would run the app's shutdown.
assert TestClient(app).post("/v1/documents", json={"source": "review", "documents": CORPUS},
                            headers={"Authorization": f"Bearer {ADMIN_KEY}"}).status_code == 200
# An indicator tree, so its routes answer with content and not only 404.
assert TestClient(app).put("/v1/indicators", json={"name": "体系", "indicators": [
    {"id": "d", "name": "配送", "children": [{"id": "d.speed", "name": "速度", "keywords": ["快递", "物流"]}]}]},
    headers={"Authorization": f"Bearer {ADMIN_KEY}"}).status_code == 200

schema = schemathesis.openapi.from_asgi("/openapi.json", app)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"} if case.path.startswith("/v1") else {}
    case.call_and_validate(headers=headers, checks=CHECKS)
