"""Data reading, linear training, save/load, and the `voc models train|eval` commands."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from models.sentiment.data import data_root, load_public, normalise_labels, read_labelled, split
from models.sentiment.linear_train import LinearConfig, train_linear
from models.sentiment.train import evaluate_analyzer
from voc.cli.models import models_app
from voc.sentiment import default_model_path
from voc.sentiment.analyzer import Analyzer
from voc.sentiment.linear import LinearSentimentModel

needs_data = pytest.mark.skipif(
    not (data_root() / "waimai_10k" / "waimai_10k.csv").is_file(), reason="public data not present"
)
SMALL = LinearConfig(n_features=2**18)


def test_label_normalisation() -> None:
    assert normalise_labels(["0", "1", "1"]) == ["negative", "positive", "positive"]
    assert normalise_labels(["-1", "0", "1"]) == ["negative", "neutral", "positive"]
    assert normalise_labels(["Positive", "neg", "中性"]) == ["positive", "negative", "neutral"]
    assert normalise_labels(["happy", "angry", "sad", "fear", "neutral"]) == [
        "positive",
        "negative",
        "negative",
        "negative",
        "neutral",
    ]
    with pytest.raises(ValueError, match="unknown sentiment label"):
        normalise_labels(["7"])


def test_read_csv_jsonl_and_json(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("\ufeffreview,label\n好吃,1\n难吃,0\n,1\n", encoding="utf-8")
    rows = [{"content": "今天天气不错", "label": "happy"}, {"content": "哇", "label": "surprise"}]
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    a = read_labelled(tmp_path / "a.csv", "review,content", "label")
    assert (a.texts, a.labels, a.dropped) == (["好吃", "难吃"], ["positive", "negative"], {"empty": 1})
    for name in ("b.jsonl", "c.json"):
        b = read_labelled(tmp_path / name, "review,content", "label")
        assert (b.texts, b.labels, b.dropped) == (["今天天气不错"], ["positive"], {"surprise": 1})
    with pytest.raises(ValueError, match="text columns"):
        read_labelled(tmp_path / "a.csv", "body", "label")


@pytest.fixture(scope="module")
def waimai_split():  # type: ignore[no-untyped-def]
    if not (data_root() / "waimai_10k" / "waimai_10k.csv").is_file():
        pytest.skip("public data not present")
    data = load_public("waimai_10k")
    rng = random.Random(0)
    idx = rng.sample(range(len(data.texts)), 3000)
    data.texts, data.labels = [data.texts[i] for i in idx], [data.labels[i] for i in idx]
    return split(data)


def test_linear_model_learns_and_round_trips(waimai_split, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = train_linear(waimai_split.train, SMALL)
    assert model.subjectivity is None  # binary data: no neutral head
    proba = model.predict_proba(waimai_split.test.texts)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    predicted = np.where(proba[:, 2] >= proba[:, 0], "positive", "negative")
    assert np.mean(predicted == np.asarray(waimai_split.test.labels)) >= 0.82
    model.save(tmp_path / "m")
    loaded = LinearSentimentModel.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict_proba(waimai_split.test.texts), proba, atol=2e-3)


def test_neutral_rows_train_the_neutral_head(waimai_split) -> None:  # type: ignore[no-untyped-def]
    train = waimai_split.train
    requests = ["请问几点开门", "发票怎么开", "在哪里取餐", "今天有优惠活动吗", "营业时间是几点到几点"] * 30
    train.texts, train.labels = train.texts + requests, train.labels + ["neutral"] * len(requests)
    model = train_linear(train, SMALL)
    assert model.subjectivity is not None
    neutral, opinion = model.predict_proba(["请问几点营业"])[0], model.predict_proba(["太难吃了"])[0]
    assert neutral[1] > 0.5 > opinion[1]


def test_rules_do_not_cost_accuracy(waimai_split, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    train_linear(waimai_split.train, SMALL).save(tmp_path / "m")
    bare = evaluate_analyzer(Analyzer(tmp_path / "m", use_rules=False), waimai_split.test)
    full = evaluate_analyzer(Analyzer(tmp_path / "m"), waimai_split.test)
    assert full["accuracy"] >= bare["accuracy"] - 0.005
    assert set(full) >= {"n", "accuracy", "macro_f1", "per_class", "docs_per_s"}


def _write_csv(path: Path, texts: list[str], labels: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "label"])
        writer.writerows(zip(texts, ["1" if label == "positive" else "0" for label in labels], strict=True))


@needs_data
def test_cli_train_and_eval(waimai_split, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _write_csv(tmp_path / "train.csv", waimai_split.train.texts, waimai_split.train.labels)
    _write_csv(tmp_path / "test.csv", waimai_split.test.texts, waimai_split.test.labels)
    runner = CliRunner()
    out = tmp_path / "model"
    trained = runner.invoke(
        models_app,
        [
            "train",
            "sentiment",
            "--data",
            str(tmp_path / "train.csv"),
            "--text-col",
            "review",
            "--label-col",
            "label",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.stdout)["n"] == len(waimai_split.train.texts)
    evaluated = runner.invoke(
        models_app,
        [
            "eval",
            "sentiment",
            "--data",
            str(tmp_path / "test.csv"),
            "--text-col",
            "review",
            "--label-col",
            "label",
            "--model",
            str(out),
            "--json",
        ],
    )
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.stdout)
    assert report["n"] == len(waimai_split.test.texts)
    assert 0.8 <= report["accuracy"] <= 1 and 0.75 <= report["macro_f1"] <= 1 and report["docs_per_s"] > 0
    assert set(report["per_class"]) == {"negative", "positive"}  # binary set: neutral never decided


def test_cli_eval_default_model_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "tiny.jsonl"
    rows = [("送餐很快，味道很好", "positive"), ("太难吃了，差评", "negative"), ("请问发票怎么开", "neutral")]
    lines = [json.dumps({"text": t, "label": y}, ensure_ascii=False) for t, y in rows]
    path.write_text("\n".join(lines), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(models_app, ["eval", "sentiment", "--data", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accuracy"] == 1.0
    missing = runner.invoke(models_app, ["eval", "sentiment", "--data", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "not found" in missing.output
    unknown = runner.invoke(models_app, ["eval", "topics", "--data", str(path)])
    assert unknown.exit_code == 2


def test_shipped_model_is_small_and_documented() -> None:
    root = default_model_path()
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size <= 25 * 1024 * 1024
    meta = json.loads((root / "linear.json").read_text(encoding="utf-8"))
    assert set(meta["heads"]) == {"polarity", "subjectivity"}  # neutral is a real class
    assert (root.parent / "MODEL_CARD.md").is_file()
