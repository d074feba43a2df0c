"""`voc search` and `voc show`: find feedback and read it in context."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from indexing import SORT_ORDERS
from indexing.highlight import snippet_parts
from voc.cli import common
from voc.cli.common import (
    ChannelOpt,
    IndustryOpt,
    JsonOpt,
    NpsOpt,
    RatingMaxOpt,
    RatingMinOpt,
    ScoreMaxOpt,
    ScoreMinOpt,
    SentimentOpt,
    SinceOpt,
    SourceOpt,
    StoreOpt,
    TagOpt,
    TopicOpt,
    UntilOpt,
    build_filters,
    emit_json,
    fail,
    no_match_message,
    open_service,
)
from voc.cli.org import ScopeOpt, scoped_service


def search_command(
    words: Annotated[list[str] | None, typer.Argument(
        help="Words to find (segmented with jieba; several words are one query); omit for all.",
        show_default=False)] = None,
    source: SourceOpt = None, sentiment: SentimentOpt = None, tag: TagOpt = None, industry: IndustryOpt = None,
    channel: ChannelOpt = None, store: StoreOpt = None, topic: TopicOpt = None, since: SinceOpt = None,
    until: UntilOpt = None,
    rating_min: RatingMinOpt = None, rating_max: RatingMaxOpt = None, score_min: ScoreMinOpt = None,
    score_max: ScoreMaxOpt = None, nps: NpsOpt = None,
    sort: Annotated[str, typer.Option("--sort", help=f"One of {', '.join(SORT_ORDERS)}.")] = "relevance",
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Hits per page.")] = 10,
    cursor: Annotated[str | None, typer.Option("--cursor", help="next_cursor of the previous page.")] = None,
    no_duplicates: Annotated[bool, typer.Option("--no-duplicates", help="Hide near-duplicate copies.")] = False,
    scope: ScopeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Full-text search with filters and facets; prints hits with highlights."""
    if sort not in SORT_ORDERS:
        raise fail(f"--sort must be one of {', '.join(SORT_ORDERS)}")
    # `voc search 送餐 慢` unquoted: the shell splits it, the user meant one query
    query = " ".join(words) if words else None
    filters = build_filters(source, sentiment, tag, industry, channel, store, topic, since, until,
                            rating_min=rating_min, rating_max=rating_max, score_min=score_min,
                            score_max=score_max, nps=nps)
    filters.exclude_near_duplicates = no_duplicates
    opened, service = scoped_service(scope)
    try:
        result = service.search(query, filters=filters, sort=sort, limit=limit, cursor=cursor)
        # nothing found is told apart: an empty store, or which filter value no document has
        empty_note = no_match_message(service, query, filters) if result.total == 0 and not cursor else None
    except ValueError as exc:
        raise fail(str(exc)) from None
    finally:
        opened.close()
    if as_json:
        emit_json(result.to_dict())
        if empty_note:
            common.err_console.print(empty_note, highlight=False, soft_wrap=True)
        return
    out = common.console
    if empty_note:
        out.print(empty_note, highlight=False, soft_wrap=True)
        return
    out.print(f"[bold]{result.total}[/] matching documents")
    for hit in result.hits:
        when = hit.created_at.date().isoformat() if hit.created_at else "-"
        label = f" {hit.sentiment}" if hit.sentiment else ""
        tags = f" [cyan]#{' #'.join(hit.tags)}[/]" if hit.tags else ""
        snippet = terminal_snippet(hit.highlight) if hit.highlight else escape(hit.text[:160])
        out.print(f"[dim]{hit.id}[/] {hit.source} {when}{label}{tags}\n  {snippet}", highlight=False)
    for name, counts in result.facets.items():
        if counts:
            out.print(f"[dim]{name}:[/] " + ", ".join(f"{k} {v}" for k, v in list(counts.items())[:8]),
                      highlight=False)
    if result.next_cursor:
        out.print(f"[dim]more: --cursor {result.next_cursor}[/]")


def terminal_snippet(snippet: str) -> str:
    """Rich markup for a highlight snippet (HTML-escaped text with <em> marks): the text as written,
    never read as markup, and the matches in bold."""
    return "".join(f"[bold yellow]{escape(text)}[/]" if marked else escape(text)
                   for text, marked in snippet_parts(snippet))


def show_command(
    doc_id: Annotated[str, typer.Argument(help="Document id (from search).")],
    as_json: JsonOpt = False,
) -> None:
    """Show one stored document in full: metadata, whole call transcript, tags."""
    service = open_service()
    doc = service.store.get(doc_id)
    service.close()
    if doc is None:
        raise fail(f"no document {doc_id!r}", code=1)
    if as_json:
        emit_json(doc.to_dict())
        return
    out = common.console
    out.print(f"[bold]{doc.id}[/] {doc.source} {doc.created_at or ''} {doc.industry or ''} "
              f"{doc.store or ''} {doc.product or ''}", highlight=False)
    for key, value in doc.meta.items():
        out.print(f"  {key}: {value}", highlight=False)
    if doc.turns:
        for turn in doc.turns:
            out.print(f"  [{'green' if turn.role == 'customer' else 'blue'}]{turn.role}[/] {escape(turn.text)}")
    else:
        out.print(f"  {escape(doc.text_original)}")
    if doc.sentiment_label:
        out.print(f"  sentiment: {doc.sentiment_label} ({doc.sentiment_score:+.2f})")
    if doc.near_duplicate_of:
        out.print(f"  near-duplicate of {doc.near_duplicate_of}")
    if doc.tags:
        out.print(f"  tags: {', '.join(doc.tags)}")
