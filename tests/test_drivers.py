"""Drivers: NPS the standard way, impact by removal recovered on planted effects, key-driver ranking, the
population chosen by search filters on a real store, and plain words where there is no number to give."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from sqlalchemy import insert

from indexing import Filters
from voc.documents import Document
from voc.drivers import DriverError, Theme, ThemeFrame, analyse, compute_drivers, nps, nps_values
from voc.drivers.keydrivers import fit
from voc.indicators.model import Indicator, IndicatorTree
from voc.indicators.store import IndicatorStore
from voc.store import DocumentStore, document_row, documents, tags


def frame(score: np.ndarray, present: np.ndarray, negative: np.ndarray | None = None,
          source: str = "survey") -> ThemeFrame:
    n, t = present.shape
    negative = np.zeros_like(present) if negative is None else negative
    return ThemeFrame(ids=[f"d{i}" for i in range(n)], source=np.array([source] * n, dtype=object),
                      score=np.asarray(score, dtype=float), rating=np.full(n, np.nan), sentiment=np.zeros(n),
                      themes=[Theme(str(j), f"theme {j}") for j in range(t)],
                      present=sparse.csr_matrix(present.astype(np.int8)),
                      negative=sparse.csr_matrix(negative.astype(np.int8)))


def draw_scores(rng: np.random.Generator, n: int, promoter: float, detractor: float) -> np.ndarray:
    group = rng.choice(3, size=n, p=[detractor, 1 - promoter - detractor, promoter])
    return np.choose(group, [rng.integers(0, 7, n), rng.integers(7, 9, n), rng.integers(9, 11, n)]).astype(float)


# --- NPS ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("scores", "expected"), [
    ([10, 9], 100.0), ([0, 6, 3], -100.0), ([7, 8], 0.0),
    ([10, 9, 8, 7, 6, 0], 0.0),  # 2 promoters, 2 detractors of 6
    ([10, 10, 10, 0], 50.0),
    ([6.9, 8.99, 9.0], 0.0),  # fractional: below 7 detractor, below 9 passive
    ([9, float("nan"), 0, float("nan")], 0.0),  # no score: not counted at all
])
def test_nps_standard_way(scores: list[float], expected: float) -> None:
    assert nps(np.array(scores)) == pytest.approx(expected)


def test_nps_of_nothing_is_undefined() -> None:
    assert np.isnan(nps(np.array([])))
    assert np.isnan(nps_values(np.array([float("nan")]))).all()


# --- impact by removal ----------------------------------------------------------------------------

def planted(seed: int = 3, n: int = 3000) -> tuple[ThemeFrame, float]:
    """Theme 0 (20% of documents) pulls scores down; themes 1 and 2 are noise. Returns the frame and the
    planted cost: share x (NPS of theme-0 documents - NPS of the rest)."""
    rng = np.random.default_rng(seed)
    present = rng.random((n, 3)) < np.array([0.2, 0.25, 0.1])
    score = draw_scores(rng, n, promoter=0.5, detractor=0.2)  # NPS 30
    bad = present[:, 0]
    score[bad] = draw_scores(rng, int(bad.sum()), promoter=0.1, detractor=0.7)  # NPS -60
    return frame(score, present), 0.2 * (-60 - 30)  # -18 points


def test_planted_cost_recovered_within_its_interval() -> None:
    data, cost = planted()
    result = analyse(data, "nps", "topic", resamples=600)
    by_key = {d["key"]: d for d in result.drivers}
    costly = by_key["0"]
    assert costly["low"] <= cost <= costly["high"]
    assert costly["high"] < 0 and costly["volume"] == int(data.present[:, 0].sum())
    for null in ("1", "2"):  # noise themes: an interval around zero, far smaller than the planted cost
        assert by_key[null]["low"] <= 0 <= by_key[null]["high"]
    assert result.drivers[0]["key"] == "0"  # the largest effect first
    assert result.top(1)[0]["key"] == "0"


def test_impact_is_overall_minus_metric_without_the_theme() -> None:
    data, _ = planted(n=400)
    result = analyse(data, "nps", "topic", resamples=50)
    scores = data.score
    mentions = np.asarray(data.present[:, 1].todense()).ravel() > 0
    expected = nps(scores) - nps(scores[~mentions])
    driver = next(d for d in result.drivers if d["key"] == "1")
    assert driver["impact"] == pytest.approx(expected, abs=0.01)
    assert driver["metric_with"] == pytest.approx(nps(scores[mentions]), abs=0.01)
    assert result.overall is not None and result.overall["value"] == pytest.approx(nps(scores), abs=0.01)


def test_same_seed_same_intervals() -> None:
    data, _ = planted(n=500)
    first, second = (analyse(data, "nps", "topic", resamples=100, seed=7) for _ in range(2))
    assert first.drivers == second.drivers and first.key_drivers == second.key_drivers


# --- not enough data -------------------------------------------------------------------------------

def test_not_enough_data_is_said_in_words_never_a_number() -> None:
    rng = np.random.default_rng(0)
    data = frame(draw_scores(rng, 20, 0.5, 0.2), rng.random((20, 2)) < 0.5)
    result = analyse(data, "nps", "topic", min_responses=30)
    assert result.status == "not_enough_data"
    assert result.overall is None and result.drivers == [] and result.key_drivers is None
    assert "not enough data" in (result.message or "") and "20" in (result.message or "")


def test_small_theme_gets_no_impact_of_its_own() -> None:
    rng = np.random.default_rng(1)
    present = np.zeros((300, 2), dtype=bool)
    present[:5, 0] = True  # 5 mentions, below the minimum
    present[100:200, 1] = True
    result = analyse(frame(draw_scores(rng, 300, 0.4, 0.3), present), "nps", "topic", min_mentions=10,
                     resamples=50)
    small = next(d for d in result.drivers if d["key"] == "0")
    assert small["status"] == "not_enough_data" and small["impact"] is None
    assert "5 mentions" in small["message"]
    assert result.drivers[-1]["key"] == "0"  # after every theme with an impact


# --- key drivers -----------------------------------------------------------------------------------

def test_regression_ranks_planted_driver_above_null() -> None:
    rng = np.random.default_rng(5)
    n = 2000
    present = rng.random((n, 3)) < 0.3
    negative = present & (rng.random((n, 3)) < 0.5)
    score = draw_scores(rng, n, 0.45, 0.25)
    hit = negative[:, 0]  # said negatively, theme 0 takes scores to detractor
    score[hit] = rng.integers(0, 5, int(hit.sum()))
    result = analyse(frame(score, present, negative), "nps", "topic", model_resamples=100, resamples=50)
    model = result.key_drivers
    assert model is not None and model["status"] == "ok"
    themes = {t["key"]: t for t in model["themes"]}
    assert model["themes"][0]["key"] == "0"
    assert themes["0"]["low"] > max(themes["1"]["high"], themes["2"]["high"])
    assert themes["0"]["negative_effect_high"] < -50  # a negative mention costs well over 50 points
    assert themes["1"]["negative_effect_low"] <= 0 <= themes["1"]["negative_effect_high"]
    assert sum(t["importance"] for t in model["themes"]) == pytest.approx(model["r2"], abs=0.02)


def test_ridge_matches_scikit_learn_with_sample_weights() -> None:
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(2)
    x = (rng.random((50, 4)) < 0.4).astype(float)
    y = x @ np.array([3.0, -2.0, 0.0, 1.0]) + rng.normal(0, 1, 50)
    w = rng.integers(1, 5, 50).astype(float)
    ours = fit(x, y, w, alpha=0.5)
    theirs = Ridge(alpha=0.5).fit(x, y, sample_weight=w)
    assert np.allclose(ours.effects, theirs.coef_, atol=1e-8)
    assert ours.r2 == pytest.approx(theirs.score(x, y, sample_weight=w), abs=1e-8)


def test_sentiment_metric_has_no_regression() -> None:
    rng = np.random.default_rng(0)
    data = frame(np.full(100, np.nan), rng.random((100, 2)) < 0.4)
    data.sentiment = rng.choice([-1.0, 0.0, 1.0], size=100)
    result = analyse(data, "sentiment", "topic", resamples=50)
    assert result.status == "ok" and result.key_drivers is not None
    assert result.key_drivers["status"] == "not_applicable"
    assert result.overall is not None
    assert result.overall["value"] == pytest.approx(100 * data.sentiment.mean(), abs=0.01)


# --- a real store: filters, sources without a score, indicators ---------------------------------------

@pytest.fixture()
def store(tmp_path: Path) -> DocumentStore:
    """Surveys at two stores (北京店 pays for 慢; 上海店 does not), hotline calls, tagged documents."""
    rng = np.random.default_rng(11)
    rows = []
    for i in range(240):
        shop = "北京店" if i % 2 else "上海店"
        slow = i % 3 == 0
        score = int(rng.integers(0, 5)) if slow and shop == "北京店" else int(rng.integers(7, 11))
        rows.append(Document(id=f"s{i:03d}", source="survey", text="配送慢" if slow else "很好", text_original="x",
                             store=shop, created_at=datetime(2026, 1 + i % 6, 1), meta={"score": score},
                             sentiment_label="negative" if slow else "positive",
                             topic_id=0 if slow else 1, topic_label="配送慢" if slow else "服务好"))
    for i in range(40):
        rows.append(Document(id=f"h{i:03d}", source="hotline", text="电话", text_original="x", store="北京店",
                             created_at=datetime(2026, 3, 1), topic_id=0, topic_label="配送慢",
                             sentiment_label="negative"))
    result = DocumentStore(f"sqlite:///{tmp_path / 'voc.sqlite'}")
    now = datetime(2026, 7, 1)
    with result.engine.begin() as conn:
        conn.execute(insert(documents), [document_row(doc, None, now) for doc in rows])
        conn.execute(insert(tags), [{"document_id": f"s{i:03d}", "tag": "回访", "created_at": now}
                                    for i in range(0, 240, 4)])
    return result


def test_filters_restrict_the_population(store: DocumentStore) -> None:
    def population(filters: Filters) -> int:
        return compute_drivers(store.engine, filters, resamples=20, model_resamples=5).population["documents"]

    assert population(Filters()) == 280
    assert population(Filters(source=["survey"])) == 240
    assert population(Filters(store=["上海店"])) == 120
    assert population(Filters(tags=["回访"])) == 60
    assert population(Filters(since=datetime(2026, 6, 1))) == 40
    assert population(Filters(until=datetime(2026, 1, 31))) == 40
    assert population(Filters(sentiment=["negative"])) == 80 + 40  # slow surveys, every call
    assert population(Filters(topic=[1])) == 160
    assert population(Filters(ids=["s000", "h001", "nope"])) == 2
    assert population(Filters(store=["北京店"], sentiment=["negative"])) == 40 + 40  # filters combine (AND)
    assert population(Filters(source=["survey"], store=["北京店"], sentiment=["negative"])) == 40
    assert population(Filters(score_min=7)) == compute_drivers(
        store.engine, Filters(nps=["passive", "promoter"]), resamples=20, model_resamples=5).population["documents"]
    beijing = compute_drivers(store.engine, Filters(store=["北京店"]), resamples=200, model_resamples=20)
    shanghai = compute_drivers(store.engine, Filters(store=["上海店"]), resamples=200, model_resamples=20)
    slow = next(d for d in beijing.drivers if d["label"] == "配送慢")
    assert slow["high"] < -20 and beijing.top(1)[0]["label"] == "配送慢"
    assert abs(next(d for d in shanghai.drivers if d["label"] == "配送慢")["impact"]) < 10  # slow costs nothing there


def test_every_search_filter_is_honoured() -> None:
    """A filter search gains must be taught to drivers too (a data scope may travel in it)."""
    from dataclasses import fields

    from voc.drivers.frame import HANDLED_FILTERS

    assert {f.name for f in fields(Filters)} == HANDLED_FILTERS


def test_sources_without_a_score_are_named(store: DocumentStore) -> None:
    result = compute_drivers(store.engine, Filters(), resamples=20, model_resamples=5)
    assert result.population["by_source"]["hotline"] == {"documents": 40, "with_metric": 0}
    assert any("hotline" in note and "neither a survey score nor a star rating" in note for note in result.notes)
    assert result.overall is not None and result.overall["n"] == 240
    only_calls = compute_drivers(store.engine, Filters(source=["hotline"]))
    assert only_calls.status == "no_metric" and only_calls.overall is None
    assert "hotline calls neither" in (only_calls.message or "")
    rating = compute_drivers(store.engine, Filters(), metric="rating")
    assert rating.status == "no_metric"


def test_by_indicator_uses_the_mapping(store: DocumentStore) -> None:
    with pytest.raises(DriverError, match="no indicator system"):
        compute_drivers(store.engine, Filters(), by="indicator")
    indicators = IndicatorStore(store.engine)
    tree = IndicatorTree(name="体系", nodes=[Indicator(id="d", name="物流", children=[
        Indicator(id="d.speed", name="配送速度", keywords=["慢"])])])
    with store.engine.begin() as conn:
        version = indicators.save_tree(conn, tree, "test", "")
        slow = [f"s{i:03d}" for i in range(240) if i % 3 == 0]
        mention = {"indicator_id": "d.speed", "score": 1.0, "via": "keyword", "polarity": "negative", "term": "慢",
                   "span_start": 0, "span_end": 1, "evidence": "配送慢", "opinion": "慢"}
        indicators.write_mapping(conn, version, [f"s{i:03d}" for i in range(200)],
                                 [{**mention, "document_id": d} for d in slow if d < "s200"])
    result = compute_drivers(store.engine, Filters(source=["survey"]), by="indicator", resamples=100,
                             model_resamples=10)
    assert [d["label"] for d in result.drivers] == ["物流 / 配送速度"]
    assert result.drivers[0]["negative_volume"] == result.drivers[0]["volume"] == len([d for d in slow if d < "s200"])
    assert result.drivers[0]["high"] < 0
    assert any("40 documents are not mapped" in note for note in result.notes)


def test_bad_metric_or_grouping(store: DocumentStore) -> None:
    with pytest.raises(DriverError, match="unknown metric"):
        compute_drivers(store.engine, Filters(), metric="csat")
    with pytest.raises(DriverError, match="unknown grouping"):
        compute_drivers(store.engine, Filters(), by="store")  # type: ignore[arg-type]


# --- the command line ------------------------------------------------------------------------------

def test_cli_table_json_and_bad_values(store: DocumentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from voc.cli.main import app

    monkeypatch.setenv("VOC_HOME", str(tmp_path))  # the fixture's store is $VOC_HOME/voc.sqlite
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    table = runner.invoke(app, ["drivers", "--store", "北京店", "--resamples", "100"])
    assert table.exit_code == 0, table.output
    assert "配送慢" in table.output and "NPS" in table.output
    assert "hotline calls carry neither a survey score nor a star rating" in " ".join(table.output.split())
    data = json.loads(runner.invoke(app, ["drivers", "--json", "--source", "survey", "--since", "2026-06-01",
                                          "--resamples", "100"]).stdout)
    assert data["population"]["documents"] == 40 and data["filters"]["source"] == ["survey"]
    calls = runner.invoke(app, ["drivers", "--source", "hotline"])
    assert calls.exit_code == 0 and "no document here carries a survey score" in " ".join(calls.output.split())
    for bad in (["--metric", "csat"], ["--by", "store"]):
        result = runner.invoke(app, ["drivers", *bad])
        assert result.exit_code == 2 and "not a known value" in result.output
    missing = runner.invoke(app, ["drivers", "--by", "indicator"])
    assert missing.exit_code == 2 and "no indicator system" in missing.output


def test_mapping_is_refreshed_only_when_documents_are_new(store: DocumentStore, tmp_path: Path) -> None:
    from sqlalchemy import update

    from voc.drivers.service import drivers, refresh_mapping
    from voc.indicators.service import IndicatorService
    from voc.service import Voc
    from voc.settings import VocSettings

    with store.engine.begin() as conn:  # a pasted copy: never mapped, and not a reason to map again
        conn.execute(update(documents).where(documents.c.id == "s001").values(near_duplicate_of="s000"))
    voc = Voc(VocSettings(home=tmp_path, workers=1))  # the fixture's store is $home/voc.sqlite
    try:
        indicators = IndicatorService(voc)
        indicators.import_tree({"name": "体系", "indicators": [{"id": "slow", "name": "配送慢", "keywords": ["慢"]}]},
                               author="test")
        assert refresh_mapping(voc, indicators) == 279
        assert refresh_mapping(voc, indicators) == 0
        with store.engine.begin() as conn:
            new = Document(id="s999", source="survey", text="配送慢", text_original="x", meta={"score": 1})
            conn.execute(insert(documents), [document_row(new, None, datetime.now())])
        assert refresh_mapping(voc, indicators) == 1
        result = drivers(voc, Filters(source=["survey"]), by="indicator", resamples=50)
        assert result.population["near_duplicates_left_out"] == 1 and not result.notes
    finally:
        voc.close()
