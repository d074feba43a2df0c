"""`voc words discover`: propose new words for the user dictionary from the stored corpus."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import typer

from voc.cli import common
from voc.cli.common import JsonOpt, SourceOpt, emit_json, open_service

words_app = typer.Typer(help="Vocabulary tools for the jieba user dictionary.", no_args_is_help=True)


@words_app.command("discover")
def discover(
    source: SourceOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many candidates to print.")] = 50,
    min_count: Annotated[int, typer.Option("--min-count", min=2, help="Minimum occurrences.")] = 5,
    out: Annotated[typer.FileTextWrite | None, typer.Option(
        "--out", help="Also write the candidates as a jieba user dictionary (word freq).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Find frequent, cohesive (PMI) and freely used (left/right entropy) strings jieba does not know."""
    from voc.text.words import discover_words

    service = open_service()

    def texts() -> Iterator[str]:
        for source_name in source or [None]:
            for batch in service.store.iter_documents(source=source_name):
                yield from (doc.text for doc in batch)

    candidates = discover_words(texts(), service.tokenizer, min_count=min_count, top=top)
    service.close()
    if out is not None:
        out.writelines(f"{c.word} {c.count}\n" for c in candidates)
    if as_json:
        emit_json([{"word": c.word, "count": c.count, "pmi": round(c.pmi, 3),
                    "left_entropy": round(c.left_entropy, 3), "right_entropy": round(c.right_entropy, 3),
                    "score": round(c.score, 3)} for c in candidates])
        return
    for c in candidates:
        common.console.print(f"{c.word:<8} count {c.count:5d}  pmi {c.pmi:5.2f}  "
                             f"entropy {c.left_entropy:4.2f}/{c.right_entropy:4.2f}", highlight=False)
