"""Mapping, coverage, suggestions and review on a small constructed corpus, through service and CLI."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voc.cli.main import app
from voc.indicators.candidates import CandidateGroup, merge_candidates
from voc.indicators.corpus import ClauseView, DocView
from voc.indicators.io import parse_tree
from voc.indicators.mapping import Mapper
from voc.indicators.review import ReviewError
from voc.indicators.service import IndicatorService
from voc.service import Voc
from voc.settings import VocSettings
from voc.text.tokenize import Tokenizer

TREE = {"name": "外卖", "indicators": [
    {"id": "food", "name": "菜品", "children": [
        {"id": "food.taste", "name": "口味", "keywords": ["味道", "口味", "好吃", "难吃"]}]},
    {"id": "delivery", "name": "配送", "keywords": ["配送", "送达"], "synonyms": ["外卖员"]},
    {"id": "hygiene", "name": "卫生", "keywords": ["头发", "异物"]},
]}
# 包装 is in no indicator: ten complaints about it must become a suggestion. (Until issue 20 this was
# 停车位; a candidate is now a term the aspect tagger marks as evaluated, and the shipped CRF never marks
# 停车位 — an out-of-domain blind spot reported in the README — while it marks 包装 in these texts.)
PARKING = [f"{who}包装{what}" for who in ("这家", "外卖", "餐盒") for what in (
    "太难找了", "太少了，转了好几圈", "收费太贵了", "总是被占", "不够用，很烦")][:10]
MAPPED = [f"{a}，{b}" for a in ("味道很好", "口味太咸了", "菜很难吃", "好吃到哭")
          for b in ("配送很快", "送达太慢了", "外卖员态度好")]


def _write_corpus(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "time"])
        for i, text in enumerate(MAPPED + PARKING, start=1):
            writer.writerow([str(i), text, f"2026-10-{1 + i % 28:02d}"])


@pytest.fixture(scope="module")
def corpus_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("ind") / "home"
    voc = Voc(VocSettings(home=home, workers=1))
    data = home.parent / "corpus.csv"
    _write_corpus(data)
    voc.ingest(data, "review")
    voc.close()
    return home


@pytest.fixture
def svc(corpus_home: Path, tmp_path: Path) -> Iterator[IndicatorService]:
    """A private copy of the ingested store, so tests do not see each other's versions."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "voc.sqlite").write_bytes((corpus_home / "voc.sqlite").read_bytes())
    voc = Voc(VocSettings(home=home, workers=1))
    service = IndicatorService(voc)
    service.import_tree(TREE, author="alice", note="first")
    yield service
    voc.close()


def test_mapping_gives_score_via_and_evidence_span() -> None:
    tree = parse_tree(TREE)
    mapper = Mapper(tree, Tokenizer())
    text = "外卖小哥很准时，就是味道太咸了"
    doc = DocView(id="d1", text=text, source="review", created_at=None, sentiment="negative", topic_id=None,
                  topic_label=None, clauses=[ClauseView("外卖小哥很准时", 0, 7, "positive"),
                                             ClauseView("就是味道太咸了", 8, 15, "negative")],
                  aspects=[{"aspect": "口味", "polarity": "negative", "opinion": "太咸", "start": 12, "end": 14}])
    mentions = {m.indicator_id: m for m in mapper.map(doc).mentions}
    taste = mentions["food.taste"]
    assert (taste.via, taste.score, taste.term, taste.polarity, taste.opinion) == (
        "keyword", 1.0, "味道", "negative", "太咸")
    assert text[taste.span_start:taste.span_end] == taste.evidence == "就是味道太咸了"
    rider = mentions["delivery"]  # 外卖小哥 folds to 外卖员, a synonym of 配送
    assert rider.via == "synonym" and rider.score == 0.9 and rider.polarity == "positive"
    assert text[rider.span_start:rider.span_end] == "外卖小哥很准时"
    assert "hygiene" not in mentions


def test_coverage_counts_shares_net_sentiment_and_flags(svc: IndicatorService) -> None:
    report = svc.coverage()
    rows = {row["id"]: row for row in report["indicators"]}
    total = len(MAPPED) + len(PARKING)
    assert report["documents"] == total and report["mapped_documents"] == len(MAPPED)
    taste = rows["food.taste"]
    assert taste["mentions"] == len(MAPPED) and taste["share"] == round(len(MAPPED) / total, 4)
    assert taste["positive"] + taste["negative"] + taste["neutral"] == taste["mentions"]
    assert taste["net_sentiment"] == round((taste["positive"] - taste["negative"]) / taste["mentions"], 4)
    assert taste["negative"] >= 6  # 口味太咸了 and 菜很难吃, three each
    assert rows["food"]["mentions"] == taste["mentions"]  # a group rolls up its indicators
    assert sum(point["mentions"] for point in taste["trend"]) == taste["mentions"]
    assert taste["top_quotes"] and all(q["text"] in " ".join(MAPPED) for q in taste["top_quotes"])
    assert rows["hygiene"]["no_evidence"] and report["no_evidence"] == ["hygiene"]
    assert rows["hygiene"]["net_sentiment"] is None


def test_unmapped_recurring_term_becomes_a_suggestion(svc: IndicatorService) -> None:
    suggestions = svc.suggest(min_count=5)
    parking = next(s for s in suggestions if "包装" in s["keywords"])
    ev = parking["evidence"]
    assert ev["count"] == len(PARKING) and len(ev["document_ids"]) == len(PARKING)
    assert ev["share"] == round(len(PARKING) / (len(PARKING) + len(MAPPED)), 4)
    assert 0 < ev["negative_rate"] <= 1 and len(ev["quotes"]) == 5
    assert all("包装" in q["text"] for q in ev["quotes"])
    assert parking["name"] == "包装" and "包装" in parking["survey_question"]
    # drafts are written from the evidence: the opinions customers pair with the theme, not a template
    said = ("太难找", "太少", "太贵", "不够用", "总是被占")
    assert any(f"“{p}”" in parking["definition"] for p in said) and "负面" in parking["definition"]
    assert any(p in parking["survey_question"] for p in said)
    assert parking["status"] == "pending" and 0 < parking["priority"] <= 100
    assert not any(set(s["keywords"]) & {"味道", "配送"} for s in suggestions)


def test_near_duplicate_candidates_merge() -> None:
    a = CandidateGroup("term:停车位", "停车位", ["停车位", "车位"], ["1", "2", "3"], "aspect_term",
                       {d: ("停车位少", "negative") for d in "123"})
    b = CandidateGroup("topic:4", "车位_停车", ["车位", "停车位", "停车"], ["2", "3", "4"], "topic",
                       {d: ("车位难找", "negative") for d in "234"})
    c = CandidateGroup("term:发票", "发票", ["发票"], ["7", "8"], "aspect_term", {d: ("发票", "neutral") for d in "78"})
    d = CandidateGroup("term:开票", "开票", ["开票"], ["7", "8", "9"], "aspect_term",
                       {x: ("开票", "neutral") for x in "789"})
    merged = merge_candidates([a, b, c, d])
    assert len(merged) == 2
    parking = next(g for g in merged if "停车位" in g.keywords)
    assert parking.document_ids == ["1", "2", "3", "4"] and parking.sources == ["aspect_term", "topic"]
    invoice = next(g for g in merged if g is not parking)  # no shared words, but the same documents
    assert set(invoice.keywords) == {"发票", "开票"} and invoice.document_ids == ["7", "8", "9"]


def test_candidates_of_one_name_merge_even_with_different_documents() -> None:
    term = CandidateGroup("term:空调", "空调", ["空调"], ["1", "2", "3", "4"], "aspect_term",
                          {d: ("空调不凉", "negative") for d in "1234"})
    topic = CandidateGroup("topic:9", "空调_温度_水温", ["空调", "温度", "水温", "循环", "打开", "发动机"],
                           ["5", "6", "7"], "topic", {d: ("水温高", "negative") for d in "567"})
    other = CandidateGroup("term:温度", "温度", ["温度"], ["8", "9"], "aspect_term",
                           {d: ("温度", "neutral") for d in "89"})
    merged = merge_candidates([term, topic, other])
    assert len(merged) == 2  # 温度 leads its own group: a shared word alone (Jaccard 1/6) is not a merge
    air = next(g for g in merged if g.keywords[0] == "空调")
    assert air.document_ids == ["1", "2", "3", "4", "5", "6", "7"] and air.sources == ["aspect_term", "topic"]


def test_accept_merge_reject_and_audit(svc: IndicatorService) -> None:
    parking = next(s for s in svc.suggest(min_count=5) if s["name"] == "包装")
    with pytest.raises(ReviewError, match="needs a reason"):
        svc.review(parking["id"], "reject", reviewer="bob")
    result = svc.review(parking["id"], "reject", reviewer="bob", reason="not our business")
    assert result["status"] == "rejected" and result["reviewer"] == "bob" and result["reason"] == "not our business"
    again = svc.suggest(min_count=5)
    assert not any(s["name"] == "包装" for s in again)  # same evidence: stays rejected
    assert svc.suggestion(parking["id"])["status"] == "rejected"
    with pytest.raises(ReviewError, match="already rejected"):
        svc.review(parking["id"], "accept", reviewer="bob")
    actions = [entry["action"] for entry in svc.audit()]
    assert actions[:3] == ["suggestions.generate", "suggestion.reject", "suggestions.generate"]
    assert actions[-1] == "tree.import"


def test_accept_adds_indicator_in_new_version(svc: IndicatorService) -> None:
    parking = next(s for s in svc.suggest(min_count=5) if s["name"] == "包装")
    result = svc.review(parking["id"], "accept", reviewer="carol", parent="food")
    assert result["status"] == "accepted" and result["version"] == 2 and result["target"] == result["indicator"]["id"]
    located = svc.tree().find(result["indicator"]["id"])
    assert located.parent.id == "food" and located.node.name == "包装" and "包装" in located.node.keywords
    assert located.node.version == 2 and svc.tree().find("food.taste").node.version == 1
    assert [v["version"] for v in svc.versions()] == [1, 2] and svc.versions()[1]["author"] == "carol"
    assert [a["id"] for a in svc.diff(1, 2)["added"]] == [located.node.id]
    assert not any(s["name"] == "包装" for s in svc.suggest(min_count=5))  # now mapped
    assert svc.audit(target=parking["id"])[0]["action"] == "suggestion.accept"


def test_merge_adds_keywords_to_existing_indicator(svc: IndicatorService) -> None:
    parking = next(s for s in svc.suggest(min_count=5) if s["name"] == "包装")
    with pytest.raises(ReviewError, match="no indicator 'nope'"):
        svc.review(parking["id"], "merge", reviewer="dave", target="nope")
    assert svc.suggestion(parking["id"])["status"] == "pending" and len(svc.versions()) == 1
    result = svc.review(parking["id"], "merge", reviewer="dave", target="delivery")
    assert result["status"] == "merged" and "包装" in result["keywords_added"]
    delivery = svc.tree().find("delivery").node
    assert "包装" in delivery.keywords and delivery.version == 2
    assert svc.diff(1)["changed"][0]["changes"]["keywords"]["to"] == delivery.keywords


def test_cli_json_shapes(svc: IndicatorService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_HOME", str(svc.voc.settings.home))
    runner = CliRunner()
    result = runner.invoke(app, ["indicators", "suggest", "--min-count", "5", "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert items and all({"id", "name", "keywords", "parent", "priority", "survey_question", "evidence"} <= set(i)
                          for i in items)
    assert all({"count", "share", "negative_rate", "quotes", "document_ids"} <= set(i["evidence"]) for i in items)
    assert "fingerprint" not in items[0]
    coverage = json.loads(runner.invoke(app, ["indicators", "coverage", "--json"]).stdout)
    row = coverage["indicators"][0]
    assert {"id", "name", "mentions", "share", "net_sentiment", "trend", "top_quotes", "no_evidence"} <= set(row)
    parking = next(i for i in items if i["name"] == "包装")
    result = runner.invoke(app, ["indicators", "review", parking["id"], "--reject", "--reviewer", "erin", "--json"])
    assert result.exit_code == 2 and "reason" in result.stderr
    result = runner.invoke(app, ["indicators", "review", parking["id"], "--reject", "--reason", "dup",
                                 "--reviewer", "erin", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["status"] == "rejected"
    result = runner.invoke(app, ["indicators", "review", "s-missing", "--accept"])
    assert result.exit_code == 1 and "no suggestion" in result.stderr
    audit = json.loads(runner.invoke(app, ["indicators", "audit", "--json"]).stdout)
    assert audit[0]["action"] == "suggestion.reject" and audit[0]["actor"] == "erin"


def test_coverage_and_suggestions_for_one_business_line(svc: IndicatorService, tmp_path: Path) -> None:
    survey = tmp_path / "survey.csv"
    with survey.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows([f"s{i}", f"问卷：{text}"] for i, text in enumerate(PARKING))
    svc.voc.ingest(survey, "survey")
    total = len(MAPPED) + len(PARKING)
    assert svc.coverage()["documents"] == total + len(PARKING)
    assert svc.coverage(sources=["review"])["documents"] == total
    assert svc.coverage(sources=["survey"])["mapped_documents"] == 0
    parking = next(s for s in svc.suggest(min_count=5, sources=["review"]) if "包装" in s["keywords"])
    assert parking["evidence"]["count"] == len(PARKING)
    everywhere = next(s for s in svc.suggest(min_count=5) if "包装" in s["keywords"])
    assert everywhere["evidence"]["count"] == 2 * len(PARKING)
