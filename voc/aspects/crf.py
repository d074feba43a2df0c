"""The no-torch span tagger: two linear-chain CRFs (python-crfsuite) over characters.

One CRF marks aspect terms, one opinion terms (B/I/O each): the public sets label the two kinds
unevenly (atepc marks aspects only), so one joint tag set would learn "no opinion here" from it.
Features: the character and its neighbours, character bigrams, character class, the position in
its jieba word, and whether the opinion or aspect lexicon covers it. Polarity is not the CRF's job;
the aspect stage takes it from the opinion word, the aspect model or the clause.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from voc.aspects.types import KINDS, TaggedSpan, spans_from_bio
from voc.sentiment import lexicon as lx

Segmenter = Callable[[str], list[str]]
MODEL_FILES = {kind: f"crf_{kind}.crfsuite" for kind in KINDS}


def _char_class(char: str) -> str:
    if char.isdigit():
        return "d"
    if char.isascii() and char.isalpha():
        return "a"
    category = unicodedata.category(char)
    if category.startswith("P") or category.startswith("S"):
        return "p"
    if char.isspace():
        return "s"
    return "h"


def _coverage(text: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    marks = ["O"] * len(text)
    for start, end in spans:
        for i in range(start, end):
            marks[i] = "B" if i == start else "I"
    return marks


def char_features(text: str, segment: Segmenter | None = None) -> list[list[str]]:
    """One feature list per character."""
    opinion = _coverage(text, [(s, e) for s, e, _ in lx.lexicon_hits(text)])
    aspect = _coverage(text, [m.span() for m in lx.ASPECT_TERM_RE.finditer(text)])
    word_position = ["S"] * len(text)
    if segment is not None:
        position = 0
        for word in segment(text):
            for offset in range(len(word)):
                if position + offset < len(text):
                    word_position[position + offset] = (
                        "S" if len(word) == 1 else "B" if offset == 0 else "E" if offset == len(word) - 1 else "M")
            position += len(word)
    padded = f"\x02\x02{text}\x03\x03"
    rows = []
    for i, char in enumerate(text):
        j = i + 2
        rows.append([
            "bias", f"c={char}", f"c-1={padded[j - 1]}", f"c+1={padded[j + 1]}", f"c-2={padded[j - 2]}",
            f"c+2={padded[j + 2]}", f"b-={padded[j - 1]}{char}", f"b+={char}{padded[j + 1]}",
            f"t={padded[j - 1:j + 2]}", f"k={_char_class(char)}", f"w={word_position[i]}",
            f"w|c={word_position[i]}{char}", f"op={opinion[i]}", f"as={aspect[i]}",
        ])
    return rows


class CrfTagger:
    """Loads ``crf_aspect.crfsuite`` and ``crf_opinion.crfsuite`` from a model directory.

    ``segment`` must be the segmentation the CRFs trained with; by default the jieba segmentation of
    voc's bundled dictionaries, which ``models.aspects.crf_train`` uses.
    """

    name = "crf"

    def __init__(self, model_dir: Path, segment: Segmenter | None = None) -> None:
        import pycrfsuite

        if segment is None:
            from voc.text.tokenize import Tokenizer

            segment = Tokenizer().segment

        self.taggers = {}
        for kind, filename in MODEL_FILES.items():
            tagger = pycrfsuite.Tagger()
            tagger.open(str(model_dir / filename))
            self.taggers[kind] = tagger
        self.segment = segment

    def tag(self, texts: Sequence[str]) -> list[list[TaggedSpan]]:
        out = []
        for text in texts:
            if not text:
                out.append([])
                continue
            features = char_features(text, self.segment)
            offsets = [(i, i + 1) for i in range(len(text))]
            spans: list[TaggedSpan] = []
            for kind, tagger in self.taggers.items():
                tags = tagger.tag(features)
                scores = [tagger.marginal(tag, i) for i, tag in enumerate(tags)]
                spans.extend(spans_from_bio(tags, offsets, kind, scores))
            out.append(sorted(spans, key=lambda s: (s.start, s.end, s.kind)))
        return out


def train_crf(examples: Sequence[tuple[str, Sequence[tuple[int, int, str]]]], out: Path,
              segment: Segmenter | None = None, max_iterations: int = 100, skip: dict[str, set[int]] | None = None,
              c1: float = 0.3, c2: float = 0.01) -> Path:
    """Train both CRFs from (text, [(start, end, kind)]) examples; ``skip[kind]`` lists example
    indices that do not label that kind (left out of its CRF)."""
    import pycrfsuite

    out.mkdir(parents=True, exist_ok=True)
    featurised = [char_features(text, segment) for text, _ in examples]
    for kind, filename in MODEL_FILES.items():
        trainer = pycrfsuite.Trainer(verbose=False)
        for index, ((text, spans), features) in enumerate(zip(examples, featurised, strict=True)):
            if index in (skip or {}).get(kind, set()):
                continue
            trainer.append(features, _coverage(text, [(s, e) for s, e, k in spans if k == kind]))
        trainer.set_params({"c1": c1, "c2": c2, "max_iterations": max_iterations,
                            "feature.possible_transitions": True, "feature.minfreq": 2})
        trainer.train(str(out / filename))
    return out
