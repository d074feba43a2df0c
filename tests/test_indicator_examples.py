"""Indicators learned from labelled examples: the exemplar model, calibrated mapping, `voc indicators learn`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from voc.cli.main import app
from voc.exemplars import Calibration, ExemplarModel, default_calibration_path, featurise, train_exemplars
from voc.indicators.corpus import ClauseView, DocView
from voc.indicators.io import parse_tree
from voc.indicators.mapping import Mapper
from voc.text.tokenize import Tokenizer

TREE = {"name": "商场", "indicators": [
    {"id": "parking", "name": "停车", "keywords": ["停车场"]},
    {"id": "service", "name": "服务", "keywords": ["服务", "态度"]},
]}
PARKING = [f"{where}车位{what}" for where in ("门口", "地下", "商场", "小区", "路边")
           for what in ("太难找了", "总是被占", "收费太贵", "不够用")]
SERVICE = [f"{who}{what}" for who in ("店员", "收银员", "导购", "保安", "前台")
           for what in ("很热情", "爱理不理", "回答很耐心", "脸色难看")]
SEGMENT = Tokenizer().segment


def _model() -> ExemplarModel:
    texts = PARKING + SERVICE
    labels = [{"parking"}] * len(PARKING) + [{"service"}] * len(SERVICE)
    return train_exemplars(featurise(texts, SEGMENT), labels, ["parking", "service", "never"])


def test_exemplar_model_round_trips_without_pickle(tmp_path: Path) -> None:
    model = _model()
    assert model.indicator_ids == ["parking", "service"]  # "never" had no examples: no head
    features = featurise(["地下车库车位太少", "店员态度很差"], SEGMENT)
    loaded = ExemplarModel.load(model.save(tmp_path / "m"))
    assert np.allclose(loaded.probabilities(features), model.probabilities(features), atol=1e-3)
    probabilities = loaded.probabilities(features)
    assert probabilities[0, 0] > probabilities[0, 1] and probabilities[1, 1] > probabilities[1, 0]
    meta = json.loads((tmp_path / "m" / "exemplars.json").read_text(encoding="utf-8"))
    meta["indicator_ids"].append("extra")
    (tmp_path / "m" / "exemplars.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match="shape"):
        ExemplarModel.load(tmp_path / "m")


def test_shipped_calibration_trusts_examples_and_keywords_together() -> None:
    calibration = Calibration.load(default_calibration_path())
    assert "train parts" in calibration.fitted_on
    assert calibration.probability(True, False, 0.9) > calibration.probability(False, False, 0.9)
    assert calibration.probability(True, False, 0.9) > calibration.probability(True, False, 0.05)
    assert calibration.probability(False, False, 0.01) < calibration.threshold


def test_mapper_finds_indicators_keywords_miss(tmp_path: Path) -> None:
    tree = parse_tree(TREE)
    mapper = Mapper(tree, Tokenizer(), exemplars=_model(), calibration=Calibration.load(default_calibration_path()))
    text = "东西还行，就是地下车位太难找了"
    doc = DocView("d1", text, "review", None, "negative", None, None,
                  [ClauseView("东西还行", 0, 4, "neutral"), ClauseView("就是地下车位太难找了", 5, 15, "negative")], [])
    mentions = {m.indicator_id: m for m in mapper.map(doc).mentions}
    assert set(mentions) == {"parking"}
    parking = mentions["parking"]
    assert parking.via == "example" and parking.evidence == "就是地下车位太难找了" and parking.polarity == "negative"
    with pytest.raises(ValueError, match="calibration"):
        Mapper(tree, Tokenizer(), exemplars=_model())


def test_learn_from_a_file_then_forget(tmp_path: Path) -> None:
    home = tmp_path / "home"
    corpus = tmp_path / "corpus.csv"
    with corpus.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["id", "text"], ["1", "电梯口车位总是被占，物业不管"], ["2", "导购很热情"]])
    tree_file = tmp_path / "tree.json"
    tree_file.write_text(json.dumps(TREE, ensure_ascii=False), encoding="utf-8")
    examples = tmp_path / "examples.csv"
    with examples.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["文本", "指标"])
        writer.writerows([[t, "停车"] for t in PARKING] + [[t, "service"] for t in SERVICE])
        writer.writerow(["手机13800138000没人接", "不存在的指标"])
        writer.writerow(["", "停车"])
    runner = CliRunner()
    env = {"VOC_HOME": str(home), "VOC_WORKERS": "1"}
    assert runner.invoke(app, ["ingest", str(corpus), "--source", "review"], env=env).exit_code == 0
    assert runner.invoke(app, ["indicators", "import", str(tree_file)], env=env).exit_code == 0
    result = runner.invoke(app, ["indicators", "learn", str(examples), "--json"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["learned"] == {"parking": len(PARKING), "service": len(SERVICE)}
    assert summary["rejected"] == 2
    assert {r["reason"] for r in summary["rejected_rows"]} == {"empty text", "not an active indicator of the tree: "
                                                                             "不存在的指标"}
    assert "13800138000" not in result.output  # rejected rows are reported by number, never by text
    coverage = json.loads(runner.invoke(app, ["indicators", "coverage", "--json"], env=env).output)
    counts = {row["id"]: row["mentions"] for row in coverage["indicators"]}
    assert counts["parking"] == 1
    forgot = runner.invoke(app, ["indicators", "learn", "--forget", "--json"], env=env)
    assert json.loads(forgot.output) == {"forgotten": True}
    coverage = json.loads(runner.invoke(app, ["indicators", "coverage", "--json"], env=env).output)
    assert {row["id"]: row["mentions"] for row in coverage["indicators"]}["parking"] == 0
    bad = runner.invoke(app, ["indicators", "learn", str(examples), "--indicator-col", "nope"], env=env)
    assert bad.exit_code == 2 and "nope" in bad.output


def test_mapping_time_grows_linearly_with_clauses_and_aspects() -> None:
    """A long repetitive text: thousands of clauses, each with a tagged aspect (was clauses x aspects)."""
    import time

    tree = parse_tree(TREE)
    mapper = Mapper(tree, Tokenizer())

    def seconds(n: int) -> float:
        clauses = [ClauseView("停车场", i * 4, i * 4 + 3, "neutral") for i in range(n)]
        aspects = [{"aspect": "", "polarity": "negative", "opinion": "", "start": i * 4, "end": i * 4 + 3}
                   for i in range(n)]
        doc = DocView("x", "停车场，" * n, "review", None, "neutral", None, None, clauses, aspects)
        started = time.perf_counter()
        assert {m.indicator_id for m in mapper.map(doc).mentions} == {"parking"}
        return time.perf_counter() - started

    best_short = min(seconds(1_000) for _ in range(3))
    best_long = min(seconds(10_000) for _ in range(2))
    assert best_long / best_short < 25, (best_short, best_long)


def test_two_learners_at_once_leave_one_whole_model(tmp_path: Path) -> None:
    """An API job and a CLI run learning at the same moment: each stages its own directory, the last
    to publish wins, and what is published loads whole; nothing is left beside it."""
    from concurrent.futures import ThreadPoolExecutor

    from voc.indicators.service import IndicatorService
    from voc.service import Voc
    from voc.settings import VocSettings

    home = tmp_path / "home"
    first = IndicatorService(Voc(VocSettings(home=home, workers=1)))
    first.import_tree(TREE, author="a")
    examples = tmp_path / "examples.csv"
    with examples.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["text", "indicator"], *[[t, "停车"] for t in PARKING],
                                      *[[t, "服务"] for t in SERVICE]])
    services = [first, IndicatorService(Voc(VocSettings(home=home, workers=1)))]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda svc: svc.learn_examples(examples), services))
    assert all(r["learned"] == {"parking": len(PARKING), "service": len(SERVICE)} for r in results)
    assert ExemplarModel.load(first.examples_dir).indicator_ids == ["parking", "service"]
    assert sorted(p.name for p in first.examples_dir.parent.iterdir() if p.name.startswith("exemplars")) == [
        "exemplars"]
    assert first.forget_examples() and not first.forget_examples()
    for svc in services:
        svc.voc.close()
