"""Issue 17, item 12: the work one POST /v1/analyze call can cause is bounded.

Each text is already capped (``max_text_chars``) and analysis is linear in its length, but 256 texts at
the cap are ~5 million characters: about a minute of one worker's CPU for a pathological text. The
call's total is capped too, with a validation error that says how to split the call.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import ApiEnv, api_env

from api.routes.analyze import MAX_TOTAL_CHARS


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ApiEnv]:
    with api_env(tmp_path / "home", corpus=False) as env:
        yield env


def test_total_characters_per_call_are_bounded(env: ApiEnv) -> None:
    per_text = env.app.state.voc_api.voc.settings.max_text_chars
    count = MAX_TOTAL_CHARS // per_text + 1  # every text within its own limit, the call over the total
    texts = ["快递" * (per_text // 2)] * count
    response = env.client.post("/v1/analyze", json={"texts": texts}, headers=env.headers("service"))
    assert response.status_code == 422, response.text[:300]
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["details"][0]["field"] == "body.texts"
    assert f"{MAX_TOTAL_CHARS:,}" in error["message"] and "split" in error["message"]


def test_ordinary_calls_are_still_analysed(env: ApiEnv) -> None:
    texts = ["味道很好，快递很快"] * 3
    response = env.client.post("/v1/analyze", json={"texts": texts}, headers=env.headers("service"))
    assert response.status_code == 200 and len(response.json()["results"]) == 3
