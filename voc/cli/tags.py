"""`voc tag add|remove|list`: tag documents one by one or in bulk by query."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

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

tag_app = typer.Typer(help="Tag documents by id or by query; list tags.", no_args_is_help=True)

IdsOpt = Annotated[
    list[str] | None,
    typer.Option("--ids", help="Document ids: `--ids A B C` or comma-separated; repeatable."),
]
QueryOpt = Annotated[str | None, typer.Option("--query", help="Tag every document this search matches.")]
MoreIds = Annotated[list[str] | None, typer.Argument(help="More ids after --ids.", show_default=False)]


def _change(tag: str, ids: list[str] | None, more: list[str] | None, query: str | None, remove: bool,
            filters_args: tuple, as_json: bool, ranges: dict[str, Any]) -> None:
    if more and not ids:
        raise fail("unexpected arguments: " + " ".join(more) + " (put ids after --ids)")
    id_list = [part for value in (ids or []) + (more or []) for part in value.replace(",", " ").split()]
    filters = build_filters(*filters_args, **ranges)
    has_filters = any([query, *filters_args]) or any(value not in (None, []) for value in ranges.values())
    if bool(id_list) == has_filters:
        raise fail("give either --ids or --query/filters, not both and not neither")
    service = open_service()
    try:
        search = None if id_list else service.build_query(query, filters=filters)
        changed = service.tag(tag, ids=id_list, query=search, remove=remove)
        # a query that matched nothing says why (empty store, unknown value) instead of "0 documents"
        # (0 changed while documents match means they all had the tag already: no note then)
        note = None
        if search is not None and changed == 0 and service.search(
                query, filters=filters, limit=1, facets=(), highlight=False).total == 0:
            note = no_match_message(service, query, filters)
    except ValueError as exc:
        raise fail(str(exc)) from None
    finally:
        service.close()
    if note:
        common.err_console.print(note, highlight=False, soft_wrap=True)
    if as_json:
        emit_json({"tag": tag, "changed": changed})
    else:
        common.console.print(f"{'removed' if remove else 'added'} tag {tag!r} on {changed} documents",
                             highlight=False)


def _tag_command(remove: bool) -> Callable[..., None]:
    """`tag add` and `tag remove` take the same options and differ only in direction."""

    def command(
        tag: Annotated[str, typer.Argument(help="The tag.")],
        more: MoreIds = None, ids: IdsOpt = None, query: QueryOpt = None, source: SourceOpt = None,
        sentiment: SentimentOpt = None, with_tag: TagOpt = None, industry: IndustryOpt = None,
        channel: ChannelOpt = None, store: StoreOpt = None, topic: TopicOpt = None, since: SinceOpt = None,
        until: UntilOpt = None, rating_min: RatingMinOpt = None, rating_max: RatingMaxOpt = None,
        score_min: ScoreMinOpt = None, score_max: ScoreMaxOpt = None, nps: NpsOpt = None, as_json: JsonOpt = False,
    ) -> None:
        _change(tag, ids, more, query, remove,
                (source, sentiment, with_tag, industry, channel, store, topic, since, until), as_json,
                {"rating_min": rating_min, "rating_max": rating_max, "score_min": score_min, "score_max": score_max,
                 "nps": nps})

    verb, where = ("Remove TAG from", "from") if remove else ("Add TAG to", "to")
    command.__doc__ = f"{verb} documents given by id, or {where} everything a query (with filters) matches."
    return command


tag_app.command("add")(_tag_command(remove=False))
tag_app.command("remove")(_tag_command(remove=True))


@tag_app.command("list")
def list_tags(as_json: JsonOpt = False) -> None:
    """Every tag with its document count."""
    service = open_service()
    counts = service.tag_counts()
    service.close()
    if as_json:
        emit_json(counts)
        return
    for tag, count in counts.items():
        common.console.print(f"{count:6d}  {tag}", highlight=False)
