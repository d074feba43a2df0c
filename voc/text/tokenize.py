"""jieba tokenisation with the domain dictionary, user dictionaries, stopwords and synonym folding.

Decisions the rest of the service relies on:

* Each ``Tokenizer`` owns its jieba instance (never ``jieba.dt``; a ``jieba.Tokenizer`` subclass
  with faster, output-identical DAG search, see ``_fastjieba``), built once in ``__init__``
  (~1 s: jieba's prefix dictionary is loaded from its marshal cache in the temp dir, or
  ``cache_dir``), then the built-in CX dictionary, user dictionaries and synonym variants are added.
* ``tokenize``: jieba precise mode with HMM; Latin lowercased; synonyms folded to their canonical
  form; stopwords and every token without a letter, digit, CJK character or emoji (punctuation,
  symbols, whitespace) dropped. Negations and degree words are not stopwords.
* PII placeholders (``[手机号]`` …) are dropped by default: they say nothing about the customer's
  experience and would otherwise leave a ``手机号`` token behind. ``keep_placeholders=True`` keeps
  each one as a single token, brackets included.
* ``index_terms``: what ``jieba.cut_for_search`` adds (in-dictionary 2- and 3-character sub-words of
  longer tokens), computed from the tokens without running jieba again. Index ``index_terms(t)``
  and query with ``tokenize(q)``.
* Tokenizers with the same configuration (same files, unchanged on disk) share one read-only
  jieba instance within a process, so a second construction is free. Nothing is ever added to
  it after construction; jieba's global ``jieba.dt`` is never touched.
* Picklable: pickling sends only the configuration; unpickling reuses the shared instance or
  builds it (~1 s once per process). Passing the tokenizer with every task is therefore cheap
  after the first; a pool initializer argument is cheapest.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jieba

from voc.text._fastjieba import FastJieba
from voc.text.pii import PLACEHOLDERS

if TYPE_CHECKING:
    from jieba.posseg import POSTokenizer

    from voc.settings import VocSettings

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
CX_DICT_PATH = RESOURCES / "cx_dict.txt"
STOPWORDS_PATH = RESOURCES / "stopwords.txt"
SYNONYMS_PATH = RESOURCES / "synonyms.txt"
_DOMAIN_FREQ = 1000  # for synonym variants; see cx_dict.txt on why moderate

_PLACEHOLDER_RE = re.compile("(" + "|".join(re.escape(p) for p in sorted(PLACEHOLDERS)) + ")")
# A token survives when it has a letter/digit/CJK character or is an emoji (skin-tone modifiers,
# ZWJ and variation selectors, which jieba emits as separate tokens, do not count).
_CONTENT_RE = re.compile("[^\\W_]|[\u2600-\u27bf\U0001f000-\U0001f3fa\U0001f400-\U0001faff]")
_USERDICT_RE = re.compile(r"^(.+?)(?: (\d+))?(?: ([A-Za-z]+))?$")

# Built cores by configuration (files and their mtimes), so that identically configured tokenizers
# in one process share one read-only jieba instance: unpickling in a worker, or constructing one
# per request or per task, costs nothing after the first. Weak, so unused cores are freed, except
# the two most recently used, which stay pinned (each is ~100 MB).
_cores: weakref.WeakValueDictionary[tuple[Any, ...], _Core] = weakref.WeakValueDictionary()
_cores_lock = threading.Lock()
_recent: list[_Core] = []
_RECENT_LIMIT = 2


class _Core:
    """The expensive, read-only part of a tokenizer; shared between unpickled copies."""

    def __init__(self, dict_files: Sequence[Path], stopword_files: Sequence[Path],
                 synonym_files: Sequence[Path], cache_dir: Path | None) -> None:
        self.jieba = FastJieba()
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self.jieba.tmp_dir = str(cache_dir)
        with _quiet_jieba():
            self.jieba.initialize()
        _load_userdict(self.jieba, CX_DICT_PATH, keep_higher=True)
        for path in dict_files:
            _load_userdict(self.jieba, path, keep_higher=False)
        self.fold: dict[str, str] = {}
        for path in synonym_files:
            _load_synonyms(path, self.fold)
        for word in {*self.fold, *self.fold.values()}:
            # Multi-character variants must be in the dictionary to come out of jieba whole; plain
            # Latin ones need not (jieba keeps Latin runs together) and must not ("kf" would
            # otherwise split "kfc").
            if not (word.isascii() and word.isalnum()) and not self.jieba.FREQ.get(word):
                self.jieba.add_word(word, _DOMAIN_FREQ)
        self.stop: frozenset[str] = frozenset(
            word.lower() for path in stopword_files for word in _read_lines(path)
        )
        self.pos: POSTokenizer | None = None
        self.pos_lock = threading.Lock()


class Tokenizer:
    """Segments Chinese customer feedback into folded, filtered tokens."""

    def __init__(
        self,
        user_dicts: Sequence[Path] = (),
        stopwords_path: Path | None = None,
        synonyms_path: Path | None = None,
        *,
        keep_placeholders: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        self.user_dicts = tuple(Path(p) for p in user_dicts)
        self.stopwords_path = Path(stopwords_path) if stopwords_path else None
        self.synonyms_path = Path(synonyms_path) if synonyms_path else None
        self.keep_placeholders = keep_placeholders
        self.cache_dir = Path(cache_dir) if cache_dir else None
        for path in (*self.user_dicts, self.stopwords_path, self.synonyms_path):
            if path is not None and not path.is_file():
                raise FileNotFoundError(f"tokenizer resource not found: {path}")
        self._core = self._shared_core()

    @classmethod
    def from_settings(cls, settings: VocSettings) -> Tokenizer:
        return cls(settings.user_dicts, settings.stopwords_path, settings.synonyms_path)

    def __repr__(self) -> str:
        return (f"Tokenizer(user_dicts={list(map(str, self.user_dicts))}, stopwords_path={self.stopwords_path}, "
                f"synonyms_path={self.synonyms_path})")

    def _build_core(self) -> _Core:
        return _Core(
            self.user_dicts,
            [STOPWORDS_PATH, *([self.stopwords_path] if self.stopwords_path else [])],
            [SYNONYMS_PATH, *([self.synonyms_path] if self.synonyms_path else [])],
            self.cache_dir,
        )

    def _shared_core(self) -> _Core:
        files = (CX_DICT_PATH, STOPWORDS_PATH, SYNONYMS_PATH, *self.user_dicts,
                 self.stopwords_path, self.synonyms_path)
        key = (*((str(f), f.stat().st_mtime_ns, f.stat().st_size) if f else None for f in files),
               str(self.cache_dir))
        with _cores_lock:
            core = _cores.get(key)
            if core is None:
                core = self._build_core()
                _cores[key] = core
            if not _recent or _recent[0] is not core:
                _recent[:] = [core, *(c for c in _recent if c is not core)][:_RECENT_LIMIT]
        return core

    def __getstate__(self) -> dict[str, Any]:
        return {"user_dicts": self.user_dicts, "stopwords_path": self.stopwords_path,
                "synonyms_path": self.synonyms_path, "keep_placeholders": self.keep_placeholders,
                "cache_dir": self.cache_dir}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._core = self._shared_core()

    # -- segmentation -------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[str]:
        """Precise-mode tokens, folded and filtered (see the module docstring)."""
        tokens: list[str] = []
        if not text:
            return tokens
        cut = self._core.jieba.cut
        for piece in self._pieces(text):
            if piece in PLACEHOLDERS:
                tokens.append(piece)
            else:
                self._filter(cut(piece), tokens)
        return tokens

    def _filter(self, words: Iterator[str], out: list[str]) -> None:
        fold = self._core.fold
        stop = self._core.stop
        content = _CONTENT_RE.search
        for word in words:
            if not word.isalnum() and not content(word):
                continue
            word = word.lower()
            word = fold.get(word, word)
            if word not in stop:
                out.append(word)

    def _pieces(self, text: str) -> list[str]:
        if "[" not in text:
            return [text]
        pieces = _PLACEHOLDER_RE.split(text)
        if not self.keep_placeholders:
            pieces = [piece for piece in pieces if piece not in PLACEHOLDERS]
        return pieces

    def segment(self, text: str, *, hmm: bool = True) -> list[str]:
        """Raw jieba pieces over this tokenizer's dictionaries: nothing folded, lowered or dropped."""
        return self._core.jieba.lcut(text, HMM=hmm) if text else []

    def tokenize_with_pos(self, text: str) -> list[tuple[str, str]]:
        """``(token, jieba part-of-speech flag)`` pairs, filtered and folded like ``tokenize``.

        Uses ``jieba.posseg`` over the same jieba instance; its segmentation can differ slightly
        from ``tokenize`` where the part-of-speech HMM splits unknown words differently.
        Kept placeholders get the flag ``"pii"``.
        """
        result: list[tuple[str, str]] = []
        if not text:
            return result
        pos = self._pos_tokenizer()
        fold = self._core.fold
        stop = self._core.stop
        for piece in self._pieces(text):
            if piece in PLACEHOLDERS:
                result.append((piece, "pii"))
                continue
            for word, flag in pos.cut(piece):
                if not word.isalnum() and not _CONTENT_RE.search(word):
                    continue
                word = word.lower()
                word = fold.get(word, word)
                if word not in stop:
                    result.append((word, flag))
        return result

    def _pos_tokenizer(self) -> POSTokenizer:
        core = self._core
        if core.pos is None:
            with core.pos_lock:
                if core.pos is None:
                    from jieba.posseg import POSTokenizer  # reads jieba's tag table: only when used

                    core.pos = POSTokenizer(core.jieba)
        return core.pos

    def index_terms(self, tokens: Sequence[str]) -> list[str]:
        """Tokens plus their in-dictionary 2- and 3-character sub-words (jieba's search mode)."""
        freq = self._core.jieba.FREQ
        fold = self._core.fold
        stop = self._core.stop
        terms: list[str] = []
        for token in tokens:
            size = len(token)
            if size > 2 and not token.isascii():
                for width in (2, 3) if size > 3 else (2,):
                    for start in range(size - width + 1):
                        part = token[start:start + width]
                        if freq.get(part):
                            part = fold.get(part, part)
                            if part not in stop:
                                terms.append(part)
            terms.append(token)
        return terms

    def part_of_speech(self, word: str) -> str | None:
        """jieba's dictionary part-of-speech tag for a word; None for words it does not tag (domain terms)."""
        return self._pos_tokenizer().word_tag_tab.get(word)

    def is_known_word(self, word: str) -> bool:
        """In the jieba dictionary, the domain dictionary or a user dictionary."""
        return bool(self._core.jieba.FREQ.get(word))

    @property
    def stopwords(self) -> frozenset[str]:
        return self._core.stop

    @property
    def synonyms(self) -> dict[str, str]:
        """Variant → canonical (a copy)."""
        return dict(self._core.fold)


def _read_lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8-sig") as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line


def _load_userdict(tokenizer: jieba.Tokenizer, path: Path, *, keep_higher: bool) -> None:
    """jieba userdict format (``word [freq] [pos]``), plus ``#`` comment lines.

    ``keep_higher`` keeps jieba's own count where it is higher, so the built-in domain dictionary
    only ever makes a term easier to keep whole.
    """
    for line in _read_lines(path):
        match = _USERDICT_RE.match(line)
        if match is None:  # pragma: no cover - the pattern matches any non-empty line
            continue
        word, freq, tag = match.groups()
        count = int(freq) if freq is not None else None
        if keep_higher and count is not None:
            count = max(count, tokenizer.FREQ.get(word, 0))
        tokenizer.add_word(word, count, tag)


def _load_synonyms(path: Path, fold: dict[str, str]) -> None:
    for line in _read_lines(path):
        canonical, _, variants = line.partition("\t")
        canonical = canonical.strip().lower()
        # A canonical never folds further: this is how a user file stops a built-in fold.
        fold.pop(canonical, None)
        for variant in variants.split(","):
            variant = variant.strip().lower()
            if variant and variant != canonical:
                fold[variant] = canonical
    # Resolve chains (a → b, b → c) so folding is a single lookup.
    for variant, canonical in fold.items():
        seen = {variant}
        while canonical in fold and canonical not in seen:
            seen.add(canonical)
            canonical = fold[canonical]
        fold[variant] = canonical


@contextmanager
def _quiet_jieba() -> Iterator[None]:
    """jieba logs 'Building prefix dict...' at DEBUG to stderr; silence it just for the load."""
    logger = jieba.default_logger
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
