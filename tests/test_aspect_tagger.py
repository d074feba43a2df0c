"""Span taggers (voc.aspects), the public span sets they train on, and aspects in the analysis output."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.aspects.corpora import SPAN_SETS, category_splits, span_splits
from voc.aspects import TaggedSpan, TaggerUnavailable, load_tagger_dir, spans_from_bio
from voc.aspects.crf import train_crf
from voc.sentiment import load_analyzer, tagger_path
from voc.settings import VocSettings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not there")
CRF_DIR = tagger_path("crf")


@needs_data
@pytest.mark.parametrize("name", SPAN_SETS)
def test_span_sets_have_valid_disjoint_splits(name: str) -> None:
    train, test = span_splits(name)
    assert len(train) > 1000 and len(test) > 100
    assert not {e.text for e in train} & {e.text for e in test}
    labelled = [e for e in train if e.spans]
    assert len(labelled) > len(train) / 2
    for example in labelled[:500]:
        for span in example.spans:
            assert 0 <= span.start < span.end <= len(example.text)
            assert span.kind in ("aspect", "opinion")


@needs_data
def test_diaasq_spans_point_at_their_words() -> None:
    # token offsets run over a whole thread; each utterance's spans must land on the labelled words
    train, _ = span_splits("diaasq")
    thread = next(e for e in train if "游戏体验" in e.text and e.spans)
    assert ("游戏体验", "aspect") in {(thread.text[s.start:s.end], s.kind) for s in thread.spans}


@needs_data
def test_category_documents_merge_labels_of_one_text() -> None:
    train, test = category_splits("bdci_car")
    assert len(train) > 5000 and len(test) > 1000
    assert any(len(d.categories) > 1 for d in train)
    assert not {d.text for d in train} & {d.text for d in test}


def test_spans_from_bio_edges() -> None:
    offsets = [(i, i + 1) for i in range(6)]
    spans = spans_from_bio(["I", "I", "O", "B", "B", "I"], offsets, "aspect", [0.9, 0.7, 1, 0.5, 1.0, 0.8])
    assert [(s.start, s.end) for s in spans] == [(0, 2), (3, 4), (4, 6)]
    assert spans[0].confidence == pytest.approx(0.8)
    assert spans_from_bio([], [], "opinion") == []


def test_shipped_crf_tags_unseen_feedback() -> None:
    tagger = load_tagger_dir(CRF_DIR)
    text = "快递太慢了，等了五天，客服态度很差"
    spans = tagger.tag([text, ""])
    assert spans[1] == []
    found = {(text[s.start:s.end], s.kind) for s in spans[0]}
    assert ("快递", "aspect") in found and ("客服态度", "aspect") in found
    assert any(kind == "opinion" and "慢" in word for word, kind in found)
    assert all(0 < s.confidence <= 1 for s in spans[0])


def test_crf_trains_from_examples(tmp_path: Path) -> None:
    examples = [("屏幕很清晰", [(0, 2, "aspect"), (2, 5, "opinion")]),
                ("电池不耐用", [(0, 2, "aspect"), (2, 5, "opinion")]),
                ("屏幕太暗了", [(0, 2, "aspect"), (2, 4, "opinion")])] * 5
    tagger = load_tagger_dir(train_crf(examples, tmp_path, max_iterations=30))
    spans = tagger.tag(["电池很清晰"])[0]
    assert TaggedSpan(0, 2, "aspect") in [TaggedSpan(s.start, s.end, s.kind) for s in spans]


def test_missing_tagger_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TaggerUnavailable, match="no span tagger"):
        load_tagger_dir(tmp_path)
    with pytest.raises(ValueError, match="VOC_ASPECT_TAGGER"):
        tagger_path("no-such-tagger")


@pytest.fixture(scope="module")
def analyzer():  # type: ignore[no-untyped-def]
    return load_analyzer(VocSettings(sentiment_model="linear"))


def test_analysis_carries_term_and_opinion_spans(analyzer) -> None:  # type: ignore[no-untyped-def]
    text = "快递太慢了，等了五天，价格倒是挺便宜"
    aspects = {a.aspect: a for a in analyzer.analyze([text])[0].aspects}
    logistics = aspects["物流配送"]
    assert (logistics.term, logistics.polarity) == ("快递", "negative")
    assert text[logistics.term_start:logistics.term_end] == "快递"
    assert text[logistics.start:logistics.end] == logistics.opinion and "慢" in logistics.opinion
    assert aspects["价格"].polarity == "positive" and 0 < aspects["价格"].confidence <= 1


def test_implicit_aspect_from_opinion(analyzer) -> None:  # type: ignore[no-untyped-def]
    text = "东西还行，就是太贵了"
    price = {a.aspect: a for a in analyzer.analyze([text])[0].aspects}["价格"]
    assert price.term == "" and price.term_start == -1 and price.polarity == "negative"
    assert text[price.start:price.end] == price.opinion and "贵" in price.opinion


def test_lexicon_setting_keeps_the_lexicon_extractor() -> None:
    lexicon = load_analyzer(VocSettings(sentiment_model="linear", aspect_tagger="lexicon"))
    tagged = load_analyzer(VocSettings(sentiment_model="linear"))
    text = "iQOO9的散热堆料跟小米12Pro完全不是一个级别"  # no lexicon term: only a tagger finds 散热
    assert lexicon.analyze([text])[0].aspects == []
    assert "散热" in {a.term for a in tagged.analyze([text])[0].aspects}


def test_shipped_encoder_tagger_gives_spans_with_polarity() -> None:
    pytest.importorskip("onnxruntime")
    tagger = load_tagger_dir(tagger_path("encoder"))
    text = "快递太慢了，等了五天，价格倒是挺便宜"
    spans, empty = tagger.tag([text, ""])
    assert empty == []
    found = {(text[s.start:s.end], s.kind): s for s in spans}
    assert ("快递", "aspect") in found and ("价格", "aspect") in found
    opinions = {word: s.polarity for (word, kind), s in found.items() if kind == "opinion"}
    assert any("慢" in word and polarity == "negative" for word, polarity in opinions.items())
    assert any("便宜" in word and polarity == "positive" for word, polarity in opinions.items())
    # one text per call: a text tags the same alone and beside others (int8 scales per call)
    assert tagger.tag([text])[0] == tagger.tag(["很好", text, "物流一般般吧"])[1]


def test_encoder_tagger_polarity_reaches_the_analysis() -> None:
    pytest.importorskip("onnxruntime")
    analyzer = load_analyzer(VocSettings(sentiment_model="linear", aspect_tagger="encoder"))
    aspects = {a.aspect: a for a in analyzer.analyze(["这款面霜保湿效果很好，就是有点贵"])[0].aspects}
    assert aspects["价格"].polarity == "negative" and aspects["价格"].term == ""
    assert aspects["价格"].opinion == "有点贵"  # not 是有点贵: the 是 of 就是 is no part of the opinion
