"""Search under hostile input (issue 17): highlighting stays linear and bounded (item 3), highlights are
HTML-escaped with only the <em> marks as markup (item 15), and no cursor a client can forge gets past
a 4xx / exit 2 (item 14). Each class is tested on both backends where a backend is involved."""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiEnv, api_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_index_contract import BACKENDS, CORPUS, open_backend
from typer.testing import CliRunner

from indexing.base import SORT_ORDERS, IndexRecord, SearchBackend, SearchQuery, decode_cursor, encode_cursor
from indexing.highlight import MAX_SCAN, highlight, snippet_parts
from voc.cli.main import app
from voc.cli.search import terminal_snippet

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchBackend]:
    index, cleanup = open_backend(request.param, tmp_path_factory.mktemp(request.param))
    index.index(CORPUS)
    yield index
    cleanup()  # type: ignore[operator]


# --- item 3: highlighting is linear and bounded ------------------------------------------------

def _best_of(repeats: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


PATHOLOGICAL: dict[str, Callable[[int], tuple[str, list[str]]]] = {
    "one word repeated": lambda n: ("快递" * n, ["快递"]),
    "overlapping terms": lambda n: ("快递快" * n, ["快递", "递快", "快"]),
    "match only at the end": lambda n: ("好" * (3 * n) + "快递", ["快递"]),
    "mixed case ascii": lambda n: ("iPhone " * n, ["iphone", "PHONE"]),
}


@pytest.mark.parametrize("case", sorted(PATHOLOGICAL))
def test_highlight_cost_grows_at_most_linearly(case: str) -> None:
    """10× the text may cost ~10× (here: bounded, so about 1×), never ~100× as the quadratic version did
    (one word × 10,000 took 6.7 s there, × 1,000 took 0.08 s)."""
    make = PATHOLOGICAL[case]
    short_text, terms = make(1_000)
    long_text, _ = make(10_000)
    short = _best_of(5, lambda: highlight(short_text, terms))
    long = _best_of(5, lambda: highlight(long_text, terms))
    assert long < 0.05, f"{case}: {long:.3f} s for one highlight"
    assert long / max(short, 1e-4) <= 12, f"{case}: ×{long / max(short, 1e-4):.1f} for a 10× longer text"


def test_highlight_is_bounded_in_size_and_scan() -> None:
    snippet = highlight("快递" * 50_000, ["快递"])
    assert snippet is not None and snippet.count("<em>") <= 80 and len(snippet) < 160 * 12
    assert highlight("好" * MAX_SCAN + "快递", ["快递"]) is None  # not looked for past the scan limit
    assert highlight("好" * (MAX_SCAN - 10) + "快递", ["快递"]) == "…" + "好" * 158 + "<em>快递</em>"


@pytest.mark.parametrize(("text", "terms", "expected"), [
    ("快递柜超时，快递员", ["快递", "快递柜"], "<em>快递柜</em>超时，<em>快递</em>员"),  # longer term first
    ("iPhone-12", ["IPHONE"], "<em>iPhone</em>-12"),  # ASCII folds like the index's tokenizer
    ("a b", [" ", ""], None),  # blanks are not terms
])
def test_highlight_marks_whole_terms(text: str, terms: list[str], expected: str | None) -> None:
    assert highlight(text, terms) == expected


def test_search_over_pathological_documents_completes(backend: SearchBackend) -> None:
    """Five stored reviews of one word repeated 10,000 times: a 20-hit search took 21 s before."""
    floods = [IndexRecord(id=f"flood{n}", text="快递" * 10_000, terms=["快递"] * 10_000, source="review")
              for n in range(5)]
    backend.index(floods)
    try:
        started = time.perf_counter()
        result = backend.search(SearchQuery(terms=["快递"], limit=20, facets=()))
        elapsed = time.perf_counter() - started
        flooded = [hit for hit in result.hits if hit.id.startswith("flood")]
        assert len(flooded) == 5 and elapsed < 3, f"{elapsed:.2f} s"
        assert all(hit.highlight and hit.highlight.startswith("<em>快递</em>") and len(hit.highlight) < 2000
                   for hit in flooded)
    finally:
        backend.delete([record.id for record in floods])


# --- item 15: highlights are escaped HTML with <em> marks ---------------------------------------

HOSTILE = '<script>alert("x")</script> & 快递 <b>柜</b> \'q\''


@given(text=st.text(st.sampled_from(list("<>&\"'快递 ab/;=")), max_size=60))
@settings(max_examples=150, deadline=None)
def test_highlight_is_escaped_text_with_only_em_marks(text: str) -> None:
    snippet = highlight(text, ["快递", "<b>", "&"])
    if snippet is None:
        return
    outside_marks = snippet.replace("<em>", "").replace("</em>", "")
    assert "<" not in outside_marks and ">" not in outside_marks and '"' not in outside_marks
    # and read back as text it is exactly the window it came from (marks aside)
    assert "".join(part for part, _ in snippet_parts(snippet)) in "…" + text + "…"


def test_api_highlight_escapes_the_text_and_keeps_the_marks(tmp_path: Path) -> None:
    with api_env(tmp_path / "home", corpus=False) as env:
        # ingest strips tags, and this is how a tag survives that: what is stored reads "<script>"
        env.ingest([{"id": "x1", "text": "价格<100 & 快递 >_< <scr<script>ipt>alert(1)"}])
        hits = env.client.get("/v1/search", params={"q": "快递"}, headers=env.headers("researcher")).json()["hits"]
    assert len(hits) == 1
    snippet = hits[0]["highlight"]
    assert snippet == "价格&lt;100 &amp; <em>快递</em> &gt;_&lt; &lt;script&gt;alert(1)"
    assert hits[0]["text"] == "价格<100 & 快递 >_< <script>alert(1)"  # plain text in JSON, not HTML


def test_cli_shows_the_snippet_as_text() -> None:
    snippet = highlight("[bold]a&b[/] 快递 <i>", ["快递"])
    assert snippet is not None
    assert terminal_snippet(snippet) == r"\[bold]a&b\[/] [bold yellow]快递[/] <i>"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_web_ui_renders_only_the_marks_as_markup() -> None:
    """api/ui/util.js `highlight`: the API's escaped snippet is shown as the text it stands for, once
    escaped (not twice), and nothing but <em> becomes markup, even if the snippet were not escaped."""
    snippet = highlight(HOSTILE, ["快递"])
    raw = "<img src=x onerror=1><em>a</em>"
    script = (f"import {{ highlight }} from {json.dumps((ROOT / 'api/ui/util.js').as_uri())};\n"
              f"console.log(JSON.stringify([highlight({json.dumps(snippet)}), highlight({json.dumps(raw)})]));")
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    rendered, unescaped = json.loads(out)
    assert rendered == snippet.replace("&#x27;", "&#39;")  # util.js writes ' as &#39;
    assert unescaped == "&lt;img src=x onerror=1&gt;<em>a</em>"


# --- item 14: forged cursors are the client's error, never a 500 / traceback ---------------------

def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=2**62, max_value=2**400)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
    | st.sampled_from(["\ud800", "Infinity", "NaN", "2026-01-01T00:00:00"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
FORGED = (
    st.text(max_size=80)
    | JSON_VALUES.map(_b64)
    | st.lists(JSON_VALUES, min_size=0, max_size=4).map(_b64)
    | st.tuples(JSON_VALUES, JSON_VALUES).map(lambda pair: _b64(list(pair)))  # the length cursors have
    | st.integers(min_value=1, max_value=3000).map(lambda depth: base64.urlsafe_b64encode(b"[" * depth).decode())
)
# Invalid whatever the sort order (a huge integer where a row number or a text belongs, NaN, a bool,
# nesting, a lone surrogate, the wrong length, "[[[[…" past the recursion limit, far too long, not base64).
INVALID_FOR_EVERY_SORT = [
    _b64([10**30, 10**30]), _b64([float("nan"), "x"]), _b64([True, "x"]), _b64([[1], "x"]),
    _b64(["\ud800", "x"]), _b64([1.0, "x", 3]), _b64([]), base64.urlsafe_b64encode(b"[" * 5000).decode(),
    "A" * 10_000, "!!!",
]
KNOWN_FORGERIES = [*INVALID_FOR_EVERY_SORT, _b64([10**30, "d001"]), _b64([1.0, 10**30]), ""]


@pytest.mark.parametrize("cursor", KNOWN_FORGERIES, ids=range(len(KNOWN_FORGERIES)))
@pytest.mark.parametrize("sort", SORT_ORDERS)
def test_known_forged_cursors_are_invalid(backend: SearchBackend, sort: str, cursor: str) -> None:
    _search_or_value_error(backend, sort, cursor)


@given(cursor=FORGED, sort=st.sampled_from(SORT_ORDERS), terms=st.sampled_from([[], ["快递"]]))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_cursor_gives_a_page_or_a_value_error(backend: SearchBackend, cursor: str, sort: str,
                                                  terms: list[str]) -> None:
    _search_or_value_error(backend, sort, cursor, terms)


def _search_or_value_error(backend: SearchBackend, sort: str, cursor: str, terms: list[str] | None = None) -> None:
    query = SearchQuery(terms=["快递"] if terms is None else terms, sort=sort, cursor=cursor,  # type: ignore[arg-type]
                        limit=3, facets=())
    with contextlib.suppress(ValueError):  # the API answers 422 and the CLI exits 2 on exactly this
        backend.search(query)


def test_issued_cursors_still_walk_every_sort(backend: SearchBackend) -> None:
    for sort in SORT_ORDERS:
        seen: list[str] = []
        query = SearchQuery(terms=["快递"], sort=sort, limit=4, facets=())  # type: ignore[arg-type]
        while True:
            page = backend.search(query)
            seen += [hit.id for hit in page.hits]
            if not page.next_cursor:
                break
            decode_cursor(page.next_cursor)
            query = SearchQuery(terms=["快递"], sort=sort, limit=4, facets=(), cursor=page.next_cursor)  # type: ignore[arg-type]
        assert len(seen) == len(set(seen)) == backend.count(SearchQuery(terms=["快递"])), sort


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    with api_env(tmp_path_factory.mktemp("api") / "home", raise_server_exceptions=False) as env:
        yield env


@given(cursor=FORGED, sort=st.sampled_from(SORT_ORDERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_answers_a_forged_cursor_with_422(api: ApiEnv, cursor: str, sort: str) -> None:
    response = api.client.get("/v1/search", params={"q": "快递", "sort": sort, "cursor": cursor},
                              headers=api.headers("researcher"))
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["error"]["details"][0]["field"].startswith("query")


@pytest.mark.parametrize("cursor", INVALID_FOR_EVERY_SORT, ids=range(len(INVALID_FOR_EVERY_SORT)))
def test_api_and_cli_reject_huge_integers_and_friends(api: ApiEnv, cursor: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for sort in SORT_ORDERS:
        response = api.client.get("/v1/search", params={"q": "快递", "sort": sort, "cursor": cursor},
                                  headers=api.headers("researcher"))
        assert response.status_code == 422, (sort, response.text)
    monkeypatch.setenv("VOC_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, ["search", "快递", "--sort", "most_negative", "--cursor", cursor])
    assert result.exit_code == 2 and "invalid cursor" in result.output, result.output


def test_a_cursor_of_another_sort_order_is_invalid() -> None:
    relevance = encode_cursor([-1.5, 12])
    with pytest.raises(ValueError, match="invalid cursor"):
        decode_cursor(relevance, ("str", "str"))
    assert decode_cursor(relevance, ("float", "int")) == [-1.5, 12]
