"""Topic discovery: the model on a corpus with known themes, labels, stable ids, trends, emerging topics."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score
from typer.testing import CliRunner

from voc.topics.clustering import HdbscanClusterer
from voc.topics.labels import is_content_word
from voc.topics.model import TopicModel
from voc.topics.service import match_topic_ids
from voc.topics.trends import Mention, emerging, trend

THEMES = {
    "logistics": ["快递", "物流", "配送", "包裹", "快递员", "驿站", "发货", "签收"],
    "taste": ["味道", "口感", "好吃", "香菜", "太咸", "米饭", "分量", "汤汁"],
    "billing": ["话费", "套餐", "扣费", "流量", "账单", "月租", "退费", "营业厅"],
    "property": ["物业", "电梯", "保安", "小区", "停车位", "绿化", "物业费", "门禁"],
}
FILLER = ["这次", "真的", "有点", "非常", "我们", "一直", "希望", "今天", "3天", "一个"]


def themed_corpus(per_theme: int = 150, seed: int = 0) -> tuple[list[list[str]], list[str], list[str]]:
    rng = random.Random(seed)
    tokens, texts, labels = [], [], []
    for theme, words in THEMES.items():
        for _ in range(per_theme):
            doc = rng.sample(words, 4) + rng.sample(FILLER, 3)
            rng.shuffle(doc)
            tokens.append(doc)
            texts.append("".join(doc))
            labels.append(theme)
    return tokens, texts, labels


def test_model_recovers_known_themes_with_clean_labels() -> None:
    tokens, texts, labels = themed_corpus()
    fit = TopicModel(tag_of=lambda word: None).fit(tokens, texts)
    assert len(fit.topics) >= len(THEMES)
    assert fit.outlier_share <= 0.1
    assert normalized_mutual_info_score(labels, fit.labels) > 0.8
    theme_words = {word for words in THEMES.values() for word in words}
    for topic in fit.topics:
        assert topic.keywords[:3], topic
        # Labels come from the theme vocabulary: no numbers ("3天"), numerals ("一个") or filler.
        assert set(topic.keywords[:3]) <= theme_words, topic.keywords
        assert 3 <= len(topic.quotes) <= 5
        assert all(quote in texts for quote in topic.quotes)
    assert sum(topic.size for topic in fit.topics) == int((fit.labels >= 0).sum())


def test_new_documents_are_assigned_without_refitting() -> None:
    tokens, texts, _ = themed_corpus()
    model = TopicModel(tag_of=lambda word: None)
    fit = model.fit(tokens, texts)
    logistics_topic = int(fit.labels[0])
    assigned, similarity = model.assign([["快递", "驿站", "签收", "包裹"], ["量子", "纠缠"]],
                                        ["快递驿站签收包裹", "量子纠缠"])
    assert assigned[0] == logistics_topic and similarity[0] > 0.5
    assert assigned[1] == -1  # nothing in common with any topic: stays an outlier


@pytest.mark.parametrize("embedding", ["ppmi-sif", "tfidf-svd"])
def test_documents_without_known_words_stay_outliers(embedding: str) -> None:
    """Answers such as 一般 or 暂无 share no word with the corpus vocabulary: they must not become a topic
    of their own without keywords."""
    from voc.topics.embedding import make_embedder

    tokens, texts, _ = themed_corpus()
    blanks = [[f"空白{i}"] for i in range(40)]  # each word once: below every vocabulary's min_df
    fit = TopicModel(embedder=make_embedder(embedding), tag_of=lambda word: None).fit(
        tokens + blanks, texts + ["".join(b) for b in blanks])
    assert (fit.labels[len(tokens):] == -1).all()
    assert all(topic.keywords for topic in fit.topics)
    assert normalized_mutual_info_score(themed_corpus()[2], fit.labels[: len(tokens)]) > 0.8


ONE_BUSINESS = ["酒店", "房间", "入住", "前台", "环境", "位置", "价格", "总体"]
HOTEL_THEMES = {
    "noise": ["隔音", "噪音", "吵闹", "隔壁", "楼道", "装修"],
    "breakfast": ["早餐", "自助餐", "餐厅", "品种", "咖啡", "面包"],
    "aircon": ["空调", "温度", "制冷", "暖气", "冷风", "遥控器"],
    "network": ["宽带", "上网", "网速", "无线", "信号", "电脑"],
}


class _OneBlobFirst:
    """A first clustering pass that sees one dense region (as HDBSCAN does on hotel reviews), then HDBSCAN."""

    def __init__(self) -> None:
        self.calls = 0
        self.hdbscan = HdbscanClusterer()

    def fit_predict(self, coords: np.ndarray) -> np.ndarray:
        self.calls += 1
        return np.zeros(len(coords), dtype=np.int64) if self.calls == 1 else self.hdbscan.fit_predict(coords)


def test_an_oversized_topic_is_split_into_the_themes_inside_it() -> None:
    """Feedback about one business: every document shares the business's words; the themes are inside."""
    rng = random.Random(0)
    tokens, labels = [], []
    for theme, words in HOTEL_THEMES.items():
        for _ in range(150):
            doc = rng.sample(ONE_BUSINESS, 6) + rng.sample(words, 2) + rng.sample(FILLER, 2)
            rng.shuffle(doc)
            tokens.append(doc)
            labels.append(theme)
    texts = ["".join(doc) for doc in tokens]
    whole = TopicModel(clusterer=_OneBlobFirst(), tag_of=lambda word: None, split_share=None).fit(tokens, texts)
    assert len(whole.topics) == 1
    fit = TopicModel(clusterer=_OneBlobFirst(), tag_of=lambda word: None).fit(tokens, texts)
    assert len(fit.topics) >= len(HOTEL_THEMES)
    assert normalized_mutual_info_score(labels, fit.labels) > 0.8
    theme_words = {word for words in HOTEL_THEMES.values() for word in words}
    assert all(topic.keywords[0] in theme_words for topic in fit.topics)  # named by its theme, not by 酒店


def test_a_theme_without_inner_structure_is_not_cut() -> None:
    """Each theme is a quarter of the corpus, over the split share: the split is tried, and its pieces,
    alike in words, join again."""
    tokens, texts, labels = themed_corpus()
    fit = TopicModel(tag_of=lambda word: None, split_share=0.2).fit(tokens, texts)
    assert len(fit.topics) == len(THEMES)
    assert normalized_mutual_info_score(labels, fit.labels) > 0.95


def test_hierarchy_merges_every_topic_once() -> None:
    tokens, texts, _ = themed_corpus()
    fit = TopicModel(tag_of=lambda word: None).fit(tokens, texts)
    assert len(fit.hierarchy) == len(fit.topics) - 1
    assert fit.hierarchy[-1]["topics"] == list(range(len(fit.topics)))
    assert [m["distance"] for m in fit.hierarchy] == sorted(m["distance"] for m in fit.hierarchy)


@pytest.mark.parametrize(("word", "tag", "expected"), [
    ("快递", "n", True), ("超时费", None, True), ("wifi", "eng", True), ("3天", None, False), ("一个", "m", False),
    ("非常", "d", False), ("的", "uj", False), ("a", "eng", False), ("我要", None, False), ("没有", "v", False),
    ("两块", None, False),
])
def test_content_word_filter(word: str, tag: str | None, expected: bool) -> None:
    assert is_content_word(word, tag) is expected


def test_topic_ids_follow_their_documents_across_rebuilds() -> None:
    old = {7: {"a", "b", "c", "d"}, 9: {"e", "f", "g"}, 4: {"x"}}
    new = [{"e", "f", "g", "h"}, {"a", "b", "c"}, {"p", "q"}]
    assert match_topic_ids(new, old, next_id=12) == [9, 7, 12]


def _mentions(daily: list[int], negative_every: int = 0, topic_id: int = 1) -> list[Mention]:
    start = datetime(2026, 1, 1)
    rows = []
    for day, count in enumerate(daily):
        for i in range(count):
            rows.append(Mention(topic_id, start + timedelta(days=day, hours=1 + i % 20),
                                bool(negative_every) and i % negative_every == 0))
    return rows


def test_trend_shows_empty_periods_as_zero() -> None:
    series = trend(_mentions([2, 0, 0, 3], negative_every=1), "day")
    assert [p["count"] for p in series] == [2, 0, 0, 3]
    assert series[1]["negative_share"] is None and series[0]["negative_share"] == 1.0


def test_emerging_flags_a_spike_but_not_a_flat_series() -> None:
    flat = _mentions([3] * 35)
    assert emerging(flat, interval="week") == []
    spike = _mentions([3] * 28 + [12] * 7)
    found = emerging(spike, interval="week")
    assert [item["topic_id"] for item in found] == [1]
    assert found[0]["reasons"] == ["volume"] and found[0]["p_value"] < 0.01


def test_emerging_flags_a_rise_in_negative_share() -> None:
    calm = _mentions([4] * 28, negative_every=4)
    angry = [Mention(1, m.created_at + timedelta(days=28), True) for m in _mentions([4] * 7)]
    found = emerging(calm + angry, interval="week")
    assert found and "negative_share" in found[0]["reasons"] and "volume" not in found[0]["reasons"]


def test_build_on_the_demo_corpus(service, tmp_path: Path) -> None:
    from voc.demo_run import run_demo

    report = run_demo(service, show_progress=False)
    built = report["topics"]["built"]
    assert built["n_topics"] >= 10 and built["outlier_share"] <= 0.15
    topics = service.topics.list_topics()
    with service.store.engine.connect() as conn:
        from sqlalchemy import func, select

        from voc.store import documents
        unassigned = conn.execute(select(func.count()).where(documents.c.topic_id.is_(None))).scalar()
    assert unassigned == 0
    # The planted parcel-locker fee issue of the demo corpus rises in its last weeks.
    assert any("快递柜" in " ".join(t["keywords"]) for t in
               [service.topics.store.get(i["topic_id"]).to_dict() for i in report["topics"]["emerging"]])
    # The index carries topics: a topic filter finds exactly the topic's documents.
    biggest = topics[0]
    from indexing import Filters
    assert service.index.count(service.build_query(None, filters=Filters(topic=[biggest.id]))) == biggest.size

    again = service.topics.build()
    assert again.carried_over >= 0.8 * again.n_topics  # same data, same ids
    assert {t.id for t in service.topics.list_topics()} & {t.id for t in topics}


def test_ingest_after_build_assigns_topics(service, tmp_path: Path) -> None:
    from voc.demo_run import run_demo
    from voc.service import Voc

    run_demo(service, show_progress=False)
    path = tmp_path / "new.csv"
    path.write_text("id,text\nn1,快递柜超时收费太离谱了，取个快递还要交保管费\nn2,量子纠缠实验\n", encoding="utf-8")
    fresh = Voc(service.settings)  # a new pipeline sees the saved topic model
    try:
        fresh.ingest(path, "review")
        docs = {d.external_id: d for batch in fresh.store.iter_documents(source="review") for d in batch
                if d.external_id in ("n1", "n2")}
    finally:
        fresh.close()
    topic = service.topics.store.get(docs["n1"].topic_id)
    assert topic is not None and docs["n1"].topic_label == topic.label
    assert docs["n2"].topic_id == -1


def test_cli_list_show_and_eval(service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voc.cli.main import app

    monkeypatch.setenv("VOC_HOME", str(service.settings.home))
    monkeypatch.setenv("VOC_WORKERS", "1")
    _, texts, labels = themed_corpus(per_theme=60)
    data = tmp_path / "labelled.csv"
    data.write_text("text,label\n" + "\n".join(f"{text},{label}" for text, label in zip(texts, labels, strict=True)),
                    encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["topics", "eval", "--data", str(data), "--text-col", "text", "--label-col", "label",
                                 "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert set(scores) == {"n", "n_topics", "outlier_share", "nmi", "ari", "seconds", "label_quality"}
    assert scores["n"] == 240 and scores["nmi"] > 0.7 and scores["label_quality"] >= 0.9

    path = tmp_path / "reviews.csv"
    path.write_text("text,time\n" + "\n".join(f"{text},2026-03-{1 + i % 28:02d}" for i, text in enumerate(texts)),
                    encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(path), "--source", "review"]).exit_code == 0
    built = runner.invoke(app, ["topics", "build"])
    assert built.exit_code == 0, built.output
    listed = json.loads(runner.invoke(app, ["topics", "list", "--json"]).stdout)
    assert listed, built.output
    assert set(listed[0]) == {"id", "label", "keywords", "size", "negative_share", "quotes"}
    shown = json.loads(runner.invoke(app, ["topics", "show", str(listed[0]["id"]), "--json"]).stdout)
    assert shown["trend"] and shown["id"] == listed[0]["id"]
    missing = runner.invoke(app, ["topics", "show", "99999"])
    assert missing.exit_code == 1
    bad = runner.invoke(app, ["topics", "trend", str(listed[0]["id"]), "--interval", "month"])
    assert bad.exit_code == 2


def test_transformer_embedder_mean_pools_a_local_model(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    from voc.topics.embedding import TransformerEmbedder

    chars = sorted(set("快递太慢了味道很好"))
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]) + "\n",
                                        encoding="utf-8")
    transformers.BertTokenizerFast(str(tmp_path / "vocab.txt")).save_pretrained(tmp_path)
    config = transformers.BertConfig(vocab_size=len(chars) + 5, hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=32)
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(tmp_path)
    embedder = TransformerEmbedder(str(tmp_path), batch_size=2, device="cpu")
    texts = ["快递太慢了", "味道很好", "快递太慢了"]
    rows = embedder.fit_transform([[]] * 3, texts)
    assert rows.shape == (3, 16)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert np.allclose(rows[0], rows[2], atol=1e-5) and not np.allclose(rows[0], rows[1])


def test_a_running_pipeline_picks_up_a_rebuilt_model(service, tmp_path: Path) -> None:
    from voc.documents import Document
    from voc.pipeline import TopicStage
    from voc.topics.service import model_path

    stage = TopicStage(model_path(service.settings))
    doc = Document(id="x", source="review", text="快递柜超时收费", text_original="快递柜超时收费",
                   tokens=["快递柜", "超时", "收费"])
    assert stage([doc])[0].topic_id is None  # no build yet: nothing assigned, nothing fails
    from voc.demo_run import run_demo

    run_demo(service, show_progress=False)
    assert stage([doc])[0].topic_id is not None


def test_cli_hierarchy_names_stable_topic_ids(service, monkeypatch: pytest.MonkeyPatch) -> None:
    from voc.cli.main import app
    from voc.demo_run import run_demo

    run_demo(service, show_progress=False)
    monkeypatch.setenv("VOC_HOME", str(service.settings.home))
    result = CliRunner().invoke(app, ["topics", "hierarchy", "--json"])
    assert result.exit_code == 0, result.output
    merges = json.loads(result.stdout)
    ids = {topic.id for topic in service.topics.list_topics()}
    assert len(merges) == len(ids) - 1 and set(merges[-1]["topics"]) == ids
    leaves = {int(child[1:]) for merge in merges for child in merge["children"] if child.startswith("t")}
    assert leaves == ids


def test_a_scoped_build_shapes_topics_from_its_scope_and_assigns_everything(service) -> None:
    from sqlalchemy import func, select

    from voc.demo_run import run_demo
    from voc.store import documents

    run_demo(service, show_progress=False)
    report = service.topics.build(source="hotline")
    with service.store.engine.connect() as conn:
        hotline = conn.execute(select(func.count()).where(documents.c.source == "hotline",
                                                          documents.c.near_duplicate_of.is_(None))).scalar()
        unassigned = conn.execute(select(func.count()).where(documents.c.topic_id.is_(None))).scalar()
    assert report.n_documents == hotline and unassigned == 0
    with pytest.raises(ValueError, match="no documents in scope"):
        service.topics.build(source="hotline", since=datetime(2099, 1, 1))
    assert service.topics.store.latest_build()["id"] == report.build_id  # the failed build changed nothing
