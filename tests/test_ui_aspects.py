"""The web UI's aspect marks (api/ui/aspects.js, util.js `segments`), run under node with a stub DOM:
overlapping spans become nested marks over boundary segments, offsets are code points (an emoji before
a span does not shift it), and server text stays text."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

UI = Path(__file__).resolve().parents[1] / "api" / "ui"
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

STUB_DOM = """
class El { constructor(tag) { this.tag = tag; this.children = []; this.className = ""; this.title = "";
  this.dataset = {}; } append(...nodes) { this.children.push(...nodes); } }
const doc = { createTextNode: (text) => ({ text }), createElement: (tag) => new El(tag) };
const tree = (n) => (n instanceof El ? { cls: n.className, title: n.title, aspect: n.dataset.aspect,
  children: n.children.map(tree) } : n.text);
"""


def run_node(body: str) -> Any:
    script = (f"import {{ segments }} from {json.dumps((UI / 'util.js').as_uri())};\n"
              f"import {{ markedAspects, aspectSpans }} from {json.dumps((UI / 'aspects.js').as_uri())};\n"
              f"{STUB_DOM}\n{body}")
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    return json.loads(out)


def flatten(node: Any) -> str:
    return node if isinstance(node, str) else "".join(flatten(c) for c in node["children"])


def marks_over(nodes: list[Any], piece: str) -> list[str]:
    """The classes of the marks around the segment whose text is ``piece``, outermost first."""
    for node in nodes:
        classes: list[str] = []
        while isinstance(node, dict):
            classes.append(node["cls"])
            node = node["children"][0]
        if node == piece:
            return classes
    raise AssertionError(f"no segment {piece!r} in {nodes}")


@needs_node
def test_segments_cut_at_every_boundary_by_code_point() -> None:
    text = "😀ab<cd>ef"
    got = run_node(f"console.log(JSON.stringify(segments({json.dumps(text)}, "
                   "[{start: 1, end: 4, k: 'x'}, {start: 3, end: 6, k: 'y'}, {start: 5, end: 5, k: 'empty'}, "
                   "{start: -3, end: 99, k: 'all'}]).map((s) => [s.text, s.start, s.end, s.spans.map((p) => p.k)])));")
    assert got == [["😀", 0, 1, ["all"]], ["ab", 1, 3, ["x", "all"]], ["<", 3, 4, ["x", "y", "all"]],
                   ["cd", 4, 6, ["y", "all"]], [">ef", 6, 9, ["all"]]]


@needs_node
def test_overlapping_term_and_opinion_marks_nest_after_an_emoji() -> None:
    """快递 is a term inside the clause its implicit opinion marks; a second aspect's opinion overlaps
    the first one's part way. The text reads back whole and unshifted, markup in it stays text."""
    text = "😀快递太慢了<b>，价格挺便宜"
    aspects = [
        {"aspect": "物流配送", "polarity": "negative", "opinion": "快递太慢了", "start": 1, "end": 6,
         "term": "快递", "term_start": 1, "term_end": 3, "confidence": 0.97, "score": -0.9},
        {"aspect": "价格", "polarity": "positive", "opinion": "太慢了<b>，价格", "start": 3, "end": 12,
         "term": "", "term_start": -1, "term_end": -1, "confidence": 0.5, "score": 0.5},
        {"aspect": "", "polarity": "odd\" onmouseover=x", "opinion": "", "start": 9, "end": 9,
         "term": "价格", "term_start": 10, "term_end": 12, "confidence": 0.4, "score": 0},
    ]
    nodes = run_node(f"console.log(JSON.stringify(markedAspects({json.dumps(text)}, {json.dumps(aspects)}, doc)"
                     ".map(tree)));")
    assert "".join(flatten(n) for n in nodes) == text
    assert nodes[0] == "😀"
    assert marks_over(nodes, "快递") == ["aspect-term", "aspect-opinion aspect-negative"]
    assert marks_over(nodes, "太慢了") == ["aspect-opinion aspect-negative", "aspect-opinion aspect-positive"]
    assert marks_over(nodes, "<b>，") == ["aspect-opinion aspect-positive"]  # markup is a text node
    assert marks_over(nodes, "价格") == ["aspect-opinion aspect-positive", "aspect-term"]
    assert marks_over(nodes, "挺便宜") == []
    inner = nodes[1]
    while isinstance(inner["children"][0], dict):
        inner = inner["children"][0]
    assert "物流配送" in inner["title"] and "negative" in inner["title"] and "97.0%" in inner["title"]
    # an unknown polarity never reaches a class name; an uncategorised term says so
    last = [n for n in nodes if isinstance(n, dict)][-1]
    assert "onmouseover" not in json.dumps(nodes)
    assert "未归类" in last["title"]


@needs_node
def test_implicit_terms_mark_only_the_opinion() -> None:
    aspects = [{"aspect": "价格", "polarity": "negative", "opinion": "太贵了", "start": 0, "end": 3,
                "term": "", "term_start": -1, "term_end": -1, "confidence": 0.8, "score": -0.6}]
    spans = run_node(f"console.log(JSON.stringify(aspectSpans({json.dumps(aspects)})));")
    assert [(s["start"], s["end"], s["classes"]) for s in spans] == [
        (0, 3, ["aspect-opinion", "aspect-negative"])]


def test_aspect_view_builds_text_nodes_only() -> None:
    source = (UI / "aspects.js").read_text(encoding="utf-8")
    assert not any(sink in source for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"))
    assert 'from "./aspects.js"' in (UI / "search.js").read_text(encoding="utf-8")
