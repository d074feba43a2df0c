"""Try a rule on the stored documents before putting it on an indicator: how many documents it
matches and a sample with the matched words marked.

Texts come from the document store, which holds them PII-masked; nothing here sees raw input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from voc.indicators.rules.engine import Rule, Span
from voc.text.pii import PLACEHOLDERS

if TYPE_CHECKING:
    from voc.indicators.corpus import ClauseView, DocView
    from voc.text.tokenize import Tokenizer

SHORT_TEXT = 300  # a document up to this long is shown whole; a longer one as its clause in context
CONTEXT = 80
_PLACEHOLDER_SPLIT = re.compile("(" + "|".join(re.escape(p) for p in sorted(PLACEHOLDERS)) + ")")


def preview(rule: Rule, batches: Iterable[list[DocView]], tokenizer: Tokenizer, *, limit: int,
            max_documents: int | None = None) -> dict[str, Any]:
    """``{rule, matches, documents_scanned, truncated, sample}``; ``matches`` counts documents with at
    least one matching clause, the sample shows each one's first."""
    matches = scanned = 0
    sample: list[dict[str, Any]] = []
    truncated = False
    for batch in batches:
        for doc in batch:
            if max_documents is not None and scanned >= max_documents:
                truncated = True
                break
            scanned += 1
            for clause in doc.clauses:
                tokens = tokenizer.tokenize(clause.text)
                match = rule.matches(tokens)
                if match is None:
                    continue
                matches += 1
                if len(sample) < limit:
                    sample.append(_example(doc, clause, tokens, match.spans, match.term, tokenizer))
                break
        if truncated:
            break
    return {"rule": str(rule), "matches": matches, "documents_scanned": scanned, "truncated": truncated,
            "sample": sample}


def _example(doc: DocView, clause: ClauseView, tokens: list[str], spans: Sequence[Span], term: str,
             tokenizer: Tokenizer) -> dict[str, Any]:
    offsets = token_offsets(tokenizer, clause.text, tokens)
    if offsets is None:  # words the tokenizer folded or re-segmented: mark the whole clause
        start, end = clause.start, clause.end
    else:
        first, _ = spans[0]
        last = max(e for _, e in spans)
        start, end = clause.start + offsets[first][0], clause.start + offsets[last - 1][1]
    text, shift = doc.text, 0
    if len(text) > SHORT_TEXT:
        shift = max(0, clause.start - CONTEXT)
        text = text[shift:min(len(text), clause.end + CONTEXT)]
    return {"document_id": doc.id, "text": text, "span_start": start - shift, "span_end": end - shift,
            "term": term}


def token_offsets(tokenizer: Tokenizer, text: str, tokens: Sequence[str]) -> list[tuple[int, int]] | None:
    """Character span of each token of ``tokenizer.tokenize(text)``, or None where they cannot be aligned.

    Tokens are lowercased, folded and filtered, so they are not substrings to search for; instead each
    raw jieba piece is tokenised on its own and carries its position. Only a handful of sample
    clauses go through this, so the second pass costs nothing that matters.
    """
    spans: list[tuple[int, int]] = []
    produced: list[str] = []
    position = 0
    for part in _PLACEHOLDER_SPLIT.split(text):
        if part in PLACEHOLDERS:
            if tokenizer.keep_placeholders:
                produced.append(part)
                spans.append((position, position + len(part)))
            position += len(part)
            continue
        for piece in tokenizer.segment(part):
            for token in tokenizer.tokenize(piece):
                produced.append(token)
                spans.append((position, position + len(piece)))
            position += len(piece)
    return spans if produced == list(tokens) else None
