"""Rule topics on indicators: the rule language (syntax, errors, negation scope, NEAR, limits), its
properties under hypothesis, rules and exclusions in mapping, import checks, and the preview (service, CLI)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from typer.testing import CliRunner

from voc.cli.main import app
from voc.indicators.corpus import ClauseView, DocView
from voc.indicators.io import IndicatorFileError, dump_tree, parse_tree, read_tree
from voc.indicators.mapping import VIA_ORDER, Mapper
from voc.indicators.model import diff_trees
from voc.indicators.rules import MAX_TERMS, RuleSyntaxError, parse_rule
from voc.indicators.service import IndicatorService
from voc.service import Voc
from voc.settings import VocSettings
from voc.text.tokenize import Tokenizer

runner = CliRunner()


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


def _match(rule: str, tokens: list[str]) -> tuple[str, ...] | None:
    found = parse_rule(rule).matches(tokens)
    return None if found is None else found.words


# --- the language ---------------------------------------------------------------------------------

def test_the_issue_example_parses_and_matches(tokenizer: Tokenizer) -> None:
    rule = parse_rule("(退款 OR 退钱) AND (没到账 OR 太慢 OR 拖) NOT 运费险", tokenizer)
    assert str(rule) == "(退款 OR 退钱) AND (没到账 OR 太慢 OR 拖) AND NOT 运费险"
    assert rule.matches(tokenizer.tokenize("退钱太慢了")).words == ("退钱", "太慢")
    assert rule.matches(tokenizer.tokenize("退款太慢，运费险也没赔")) is None
    assert rule.matches(tokenizer.tokenize("退款很快")) is None


def test_terms_are_tokenised_like_the_clause(tokenizer: Tokenizer) -> None:
    # 到账 is two tokens to jieba (到 账): a bare term and a quoted phrase both match them in a row
    tokens = tokenizer.tokenize("退款到账了")
    assert parse_rule("到账", tokenizer).matches(tokens) is not None
    assert parse_rule('"退款 到账"', tokenizer).matches(tokens).words == ("退款到账",)
    assert parse_rule('"到账 退款"', tokenizer).matches(tokens) is None
    # synonyms fold on both sides: 退货险 is a variant of 运费险
    assert parse_rule("退货险", tokenizer).matches(tokenizer.tokenize("买了运费险")) is not None


def test_negation_scope(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokenize("不满意") == ["不", "满意"]
    assert parse_rule("满意", tokenizer).matches(["不", "满意"]) is None
    assert parse_rule("NEG(满意)", tokenizer).matches(["不", "满意"]).words == ("不满意",)
    assert parse_rule("NEG(满意)", tokenizer).matches(["满意"]) is None
    assert _match("满意", ["没有", "很", "满意"]) is None  # two tokens back still negates
    assert _match("满意", ["没", "说", "很", "满意"]) == ("满意",)  # three do not
    assert _match("满意 OR NEG(满意)", ["别", "满意"]) == ("别满意",)
    assert _match("满意", ["满意", "不", "满意"]) == ("满意",)  # the first one is not negated
    assert _match('NEG("退款 到账")', ["未", "退款", "到账"]) == ("未退款到账",)


def test_near(tokenizer: Tokenizer) -> None:
    assert _match("退款 NEAR/2 到账", ["退款", "一直", "还", "是", "到账"]) is None
    assert _match("退款 NEAR/2 到账", ["退款", "一直", "到账"]) == ("退款一直到账",)
    assert _match("退款 NEAR/1 到账", ["到账", "的", "退款"]) == ("到账的退款",)  # either order
    assert _match("a NEAR/3 a", ["a"]) is None  # one occurrence is not near itself
    assert _match("(a OR b) NEAR/1 c NEAR/1 d", ["b", "c", "x", "d"]) == ("bcxd",)
    assert _match("NEG(满意) NEAR/2 态度", ["不", "满意", "客服", "态度"]) == ("不满意客服态度",)
    # the window is two tokens, whatever they are: 服务 right after 不满意 is in scope too
    assert _match("NEG(满意) NEAR/2 服务", ["不", "满意", "服务"]) is None
    assert str(parse_rule("a NEAR/3 (b NEAR/2 c)")) == "a NEAR/3 (b NEAR/2 c)"


def test_precedence_and_canonical_text() -> None:
    cases = {
        "a OR b AND c": "a OR b AND c",
        "(a OR b) AND c": "(a OR b) AND c",
        "a AND (b AND c)": "a AND b AND c",
        "NOT a NEAR/2 b AND c": "NOT a NEAR/2 b AND c",
        "a AND NOT (b OR c)": "a AND NOT (b OR c)",
        "（退款 OR 退钱）AND “到 账”": '(退款 OR 退钱) AND "到 账"',
        '"AND" OR "a b" OR "x(y)"': '"AND" OR "a b" OR "x(y)"',
    }
    for text, canonical in cases.items():
        assert str(parse_rule(text)) == canonical, text
    assert _match("a OR b AND c", ["a"]) == ("a",)  # AND binds tighter than OR
    assert _match("NOT a NEAR/1 b AND c", ["a", "b", "c"]) is None


@pytest.mark.parametrize(("rule", "position", "message"), [
    ("", 0, "empty"),
    ("退款 到账", 3, "no operator"),
    ("退款 and 到账", 3, "capitals"),
    ("(退款 OR 退钱", 0, "never closed"),
    ("退款)", 2, "has no '('"),
    ("()", 0, "empty parentheses"),
    ("退款 AND", 3, "needs a word"),
    ("OR 退款", 0, "needs a word"),
    ("退款 OR OR 到账", 3, "needs a word"),
    ("退款 NEAR 到账", 3, "NEAR needs a distance"),
    ("退款 NEAR/0 到账", 3, "out of range"),
    ("退款 NEAR/51 到账", 3, "out of range"),
    ("a near/3 b", 2, "capitals"),
    ("退款 XOR 到账", 3, "unknown operator"),
    ("退款 && 到账", 3, "unknown operator"),
    ("a W/3 b", 2, "unknown operator"),
    ("退*", 0, "wildcards"),
    ('"退款', 0, "never closed"),
    ("NEG 满意", 0, "NEG takes"),
    ("a NEAR/2 (b AND c)", 2, "NEAR/2 joins"),
    ("a NEAR/2 NOT b", 2, "needs a word"),
    ("NOT 运费险", 0, "only says what must be absent"),
    ("退款 OR NOT 运费险", 0, "only says what must be absent"),
    ("x" * 501, 500, "at most 500"),
])
def test_errors_name_the_position_and_the_problem(rule: str, position: int, message: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(rule)
    assert caught.value.position == position
    assert message in caught.value.message
    assert str(caught.value).startswith(f"rule error at character {position + 1}: ")
    assert caught.value.chinese  # every message has a Chinese gloss


def test_a_term_the_tokenizer_drops_is_an_error(tokenizer: Tokenizer) -> None:
    with pytest.raises(RuleSyntaxError, match="could never match") as caught:
        parse_rule("退款 AND 的", tokenizer)
    assert caught.value.position == 7


def test_hostile_input_is_bounded() -> None:
    for rule in ("(" * 100 + "a" + ")" * 100, "NOT " * 100 + "a", "(" * 10_000):
        with pytest.raises(RuleSyntaxError, match=r"nested too deeply|at most 500"):
            parse_rule(rule)  # never a RecursionError
    with pytest.raises(RuleSyntaxError, match="too many terms"):
        parse_rule(" OR ".join(["a"] * (MAX_TERMS + 1)))
    chain = parse_rule(" NEAR/50 ".join(["a"] * 40))
    tokens = ["a", "b"] * 5000
    started = time.perf_counter()
    assert chain.matches(tokens) is not None
    assert parse_rule(" OR ".join(f'"a {i}"' for i in range(40))).matches(tokens) is None
    assert time.perf_counter() - started < 5


# --- properties -----------------------------------------------------------------------------------

WORDS = ("a", "b", "c", "d")
TOKENS = st.lists(st.sampled_from((*WORDS, "不", "x")), max_size=14)
_LEAF = st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS).map(lambda w: f"NEG({w})"),
                  st.tuples(st.sampled_from(WORDS), st.sampled_from(WORDS)).map(lambda p: f'"{p[0]} {p[1]}"'))
_POSITIONAL = st.recursive(_LEAF, lambda inner: st.one_of(
    st.tuples(inner, inner).map(lambda p: f"({p[0]} OR {p[1]})"),
    st.tuples(inner, st.integers(1, 3), inner).map(lambda p: f"({p[0]} NEAR/{p[1]} {p[2]})")), max_leaves=4)
# Affirmative by construction (every rule looks for some word): purely negative rules are refused by
# design and tested above.
RULES = st.recursive(_POSITIONAL, lambda inner: st.one_of(
    st.tuples(inner, inner).map(lambda p: f"({p[0]} AND {p[1]})"),
    st.tuples(inner, inner).map(lambda p: f"({p[0]} OR {p[1]})"),
    st.tuples(inner, inner).map(lambda p: f"({p[0]} NOT {p[1]})"),
    st.tuples(inner, inner).map(lambda p: f"(NOT {p[0]} AND {p[1]})")), max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(RULES)
def test_round_trip(text: str) -> None:
    rule = parse_rule(text)
    again = parse_rule(str(rule))
    assert again == rule and str(again) == str(rule)


@settings(max_examples=150, deadline=None)
@given(RULES, RULES, TOKENS)
def test_boolean_operators_mean_what_they_say(a: str, b: str, tokens: list[str]) -> None:
    rule_a, rule_b = parse_rule(a), parse_rule(b)
    hit_a, hit_b = rule_a.matches(tokens) is not None, rule_b.matches(tokens) is not None
    assert (parse_rule(f"{a} OR {b}").matches(tokens) is not None) == (hit_a or hit_b)
    assert (parse_rule(f"{a} AND {b}").matches(tokens) is not None) == (hit_a and hit_b)
    assert (parse_rule(f"{a} NOT {b}").matches(tokens) is not None) == (hit_a and not hit_b)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(WORDS), st.sampled_from(WORDS), st.integers(1, 4), TOKENS)
def test_near_and_negation_agree_with_a_brute_force(x: str, y: str, n: int, tokens: list[str]) -> None:
    def free(i: int) -> bool:
        return "不" not in tokens[max(0, i - 2):i]

    xs = [i for i, t in enumerate(tokens) if t == x and free(i)]
    ys = [i for i, t in enumerate(tokens) if t == y and free(i)]
    assert (parse_rule(x).matches(tokens) is not None) == bool(xs)
    expected = any(i != j and abs(i - j) - 1 <= n for i in xs for j in ys)
    match = parse_rule(f"{x} NEAR/{n} {y}").matches(tokens)
    assert (match is not None) == expected
    if match:
        assert all(0 <= s < e <= len(tokens) for s, e in match.spans)


# --- indicators, import, mapping ----------------------------------------------------------------

TREE = {"name": "售后", "indicators": [
    {"id": "refund", "name": "退款时效", "keywords": ["退款"],
     "rule": "(退款 OR 退钱) AND (到账 OR 太慢 OR 拖) NOT 运费险", "排除": "运费险"},
    {"id": "satisfaction", "name": "满意度", "规则": "NEG(满意)"},
    {"id": "freight", "name": "运费", "keywords": ["运费险", "运费"]},
]}


def _doc(doc_id: str, text: str) -> DocView:
    return DocView(doc_id, text, "review", None, "negative", None, None, [ClauseView(text, 0, len(text), "negative")])


def test_mapping_adds_rule_mentions_and_honours_exclusions(tokenizer: Tokenizer) -> None:
    assert VIA_ORDER[0] == "rule"
    mapper = Mapper(parse_tree(TREE), tokenizer)
    got = {text: {(m.indicator_id, m.via, m.term) for m in mapper.map(_doc(str(i), text)).mentions}
           for i, text in enumerate(["退钱太慢了", "我很不满意", "退款运费险没赔", "退款了", "很满意"])}
    assert got["退钱太慢了"] == {("refund", "rule", "退钱、太慢")}
    assert got["我很不满意"] == {("satisfaction", "rule", "不满意")}
    # the keyword 退款 would map it, but the exclude rule vetoes refund there; 运费 still gets it
    assert got["退款运费险没赔"] == {("freight", "keyword", "运费险")}
    assert got["退款了"] == {("refund", "keyword", "退款")}
    assert not any(via == "rule" for _, via, _ in got["很满意"])  # NEG(满意) wants the negated form
    # the veto is per clause: the other clause of the same document still maps to refund
    two = DocView("t", "退款运费险没赔，退款太慢", "review", None, "negative", None, None,
                  [ClauseView("退款运费险没赔", 0, 7, "negative"), ClauseView("退款太慢", 8, 12, "negative")])
    refund = next(m for m in mapper.map(two).mentions if m.indicator_id == "refund")
    assert (refund.via, refund.span_start, refund.evidence) == ("rule", 8, "退款太慢")


def test_rule_fields_round_trip_and_show_in_diffs(tmp_path: Path) -> None:
    tree = parse_tree(TREE)
    node = tree.find("refund").node
    assert (node.rule, node.exclude) == ("(退款 OR 退钱) AND (到账 OR 太慢 OR 拖) NOT 运费险", "运费险")
    for fmt in ("yaml", "json", "xlsx"):
        path = tmp_path / f"tree.{fmt}"
        path.write_bytes(dump_tree(tree, fmt))
        back = read_tree(path)
        assert [(loc.node.rule, loc.node.exclude) for loc in back.walk()] == [
            (loc.node.rule, loc.node.exclude) for loc in tree.walk()], fmt
    changed = parse_tree({**TREE, "indicators": [{**TREE["indicators"][0], "rule": "退款 AND 到账"},
                                                 *TREE["indicators"][1:]]})
    diff = diff_trees(tree, changed)
    assert diff["changed"] == [{"id": "refund", "name": "退款时效", "changes": {
        "rule": {"from": node.rule, "to": "退款 AND 到账"}}}]


def test_a_bad_rule_stops_the_import_naming_node_and_problem(tmp_path: Path) -> None:
    bad = {"indicators": [{"id": "a", "name": "退款", "rule": "退款 AND (到账"}]}
    with pytest.raises(IndicatorFileError, match=r"indicators\[1\] \('退款'\): rule '退款 AND \(到账'.*never closed"):
        parse_tree(bad)
    with pytest.raises(IndicatorFileError, match=r"exclude '运费险 OR': .*needs a word"):
        parse_tree({"indicators": [{"id": "a", "name": "退款", "exclude": "运费险 OR"}]})
    workbook = Workbook()
    workbook.active.append(["一级指标", "二级指标", "关键词", "规则"])
    workbook.active.append(["售后", "退款", "退款", "退款 NEAR 到账"])
    path = tmp_path / "tree.xlsx"
    workbook.save(path)
    with pytest.raises(IndicatorFileError, match=r"tree\.xlsx.*'退款'.*NEAR needs a distance"):
        read_tree(path)


# --- the preview over stored documents ------------------------------------------------------------

TEXTS = ["退款三天了还没到账，客服电话13812345678打不通", "退钱太慢了", "退款很快，满意", "我不满意这次的退款速度",
         "运费险退款没到账", "物流很快"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("rules") / "home"
    data = home.parent / "corpus.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows([str(i), text] for i, text in enumerate(TEXTS, start=1))
    voc = Voc(VocSettings(home=home, workers=1))
    voc.ingest(data, "review")
    voc.close()
    return home


@pytest.fixture
def svc(home: Path) -> Iterator[IndicatorService]:
    voc = Voc(VocSettings(home=home, workers=1))
    yield IndicatorService(voc)
    voc.close()


def test_preview_counts_documents_and_marks_spans_in_stored_text(svc: IndicatorService) -> None:
    # jieba joins 没到 (退款 没到 账), so the rule says 没到账 as the clause is tokenised
    result = svc.preview_rule("退款 NEAR/3 没到账 NOT 运费险", limit=10)
    assert (result["matches"], result["documents_scanned"], result["truncated"]) == (1, len(TEXTS), False)
    [item] = result["sample"]
    assert "13812345678" not in item["text"] and "退款三天了还没到账" in item["text"]  # the stored, masked text
    assert item["text"][item["span_start"]:item["span_end"]] == "退款三天了还没到账"
    negated = svc.preview_rule("NEG(满意)", limit=1)
    assert negated["matches"] == 1 and negated["sample"][0]["term"] == "不满意"
    assert svc.preview_rule("退款 OR 退钱", limit=2)["matches"] == 5
    capped = svc.preview_rule("退款 OR 退钱", limit=2, max_documents=3)
    assert (capped["documents_scanned"], capped["truncated"]) == (3, True) and 0 < capped["matches"] <= 3
    assert len(capped["sample"]) <= 2


def test_import_checks_terms_against_the_tokenizer(svc: IndicatorService) -> None:
    with pytest.raises(IndicatorFileError, match=r"indicator a \('退款'\): rule '退款 AND 的'.*could never match"):
        svc.import_tree({"indicators": [{"id": "a", "name": "退款", "rule": "退款 AND 的"}]})


def test_cli_preview_rule(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_HOME", str(home))
    result = runner.invoke(app, ["indicators", "preview-rule", "退钱 OR NEG(满意)", "--json", "--limit", "5"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["matches"] == 2 and data["documents_scanned"] == len(TEXTS)
    assert {item["text"][item["span_start"]:item["span_end"]] for item in data["sample"]} == {"退钱", "不满意"}
    assert set(data["sample"][0]) >= {"document_id", "text", "span_start", "span_end"}
    plain = runner.invoke(app, ["indicators", "preview-rule", "退钱", "--source", "review"])
    assert plain.exit_code == 0 and "1 of 6 documents match 退钱" in plain.stdout
    bad = runner.invoke(app, ["indicators", "preview-rule", "退款 到账"])
    assert bad.exit_code == 2 and "rule error at character 4" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    helped = runner.invoke(app, ["indicators", "preview-rule", "--help"])
    assert "NEAR/5" in helped.stdout and "NEG(满意)" in helped.stdout


# --- the web UI's preview ---------------------------------------------------------------------------

UI = Path(__file__).resolve().parents[1] / "api" / "ui"


def test_web_ui_preview_puts_server_text_in_text_nodes_only() -> None:
    source = (UI / "rules.js").read_text(encoding="utf-8")
    assert not any(sink in source for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"))
    template = source[source.index("el(`"):source.index("`);", source.index("el(`"))]
    assert "${" not in template  # the one markup template holds no data
    assert 'from "./rules.js"' in (UI / "indicators.js").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_web_ui_marks_the_span_by_code_point() -> None:
    """The API counts code points; JS strings count UTF-16 units: an emoji before the span must not
    shift the mark, and markup in the text stays text."""
    text = "😀<img src=x onerror=alert(1)>退款没到账"
    start = text.index("退款")
    script = ("globalThis.document = { createElement: (tag) => ({ tag, textContent: '' }) };\n"
              f"const {{ markedText }} = await import({json.dumps((UI / 'rules.js').as_uri())});\n"
              f"const [before, mark, after] = markedText({json.dumps(text)}, {start}, {start + 2});\n"
              "console.log(JSON.stringify([before, mark.tag, mark.textContent, after]));")
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    assert json.loads(out) == ["😀<img src=x onerror=alert(1)>", "mark", "退款", "没到账"]


def test_the_store_keeps_rules_and_coverage_counts_rule_mentions(home: Path, tmp_path: Path) -> None:
    private = tmp_path / "home"  # a copy: this test stores a tree, the preview tests above need none
    private.mkdir()
    (private / "voc.sqlite").write_bytes((home / "voc.sqlite").read_bytes())
    voc = Voc(VocSettings(home=private, workers=1))
    try:
        service = IndicatorService(voc)
        service.import_tree(TREE, author="alice")
        stored = service.tree().find("refund").node
        assert (stored.rule, stored.exclude) == (TREE["indicators"][0]["rule"], "运费险")
        assert service.show()["indicators"][1]["rule"] == "NEG(满意)"
        rows = {row["id"]: row for row in service.coverage()["indicators"]}
        # five documents say 退款/退钱; 运费险退款没到账 is excluded; 退钱太慢 is the rule's own
        assert rows["refund"]["via"] == {"rule": 1, "keyword": 3} and rows["refund"]["mentions"] == 4
        assert rows["satisfaction"]["via"]["rule"] == 1  # 我不满意…; 满意 alone (退款很快，满意) is not a rule hit
    finally:
        voc.close()
