"""`voc indicators …`: the indicator system, its coverage by VOC evidence, and suggested new indicators."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from voc.cli import common
from voc.cli.common import IndustryOpt, JsonOpt, SourceOpt, emit_json, fail, open_service

indicators_app = typer.Typer(help="The indicator system (指标体系): import, coverage, suggestions, review.",
                             no_args_is_help=True)
VersionOpt = Annotated[int | None, typer.Option("--version", min=1, help="A stored version (default: latest).")]
AuthorOpt = Annotated[str | None, typer.Option("--author", help="Who makes the change (default: the OS user).")]


def _who(name: str | None) -> str:
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers: still record something
        return "unknown"


@contextmanager
def _service() -> Iterator[Any]:
    """The indicator service, with its errors turned into clean messages and exit codes."""
    from voc.indicators.io import IndicatorFileError
    from voc.indicators.review import ReviewError
    from voc.indicators.service import IndicatorNotFound, IndicatorService

    voc = open_service()
    try:
        yield IndicatorService(voc)
    except IndicatorNotFound as exc:
        raise fail(str(exc).strip("'\""), code=1) from None
    except (IndicatorFileError, ReviewError) as exc:
        raise fail(str(exc)) from None
    finally:
        voc.close()


@indicators_app.command("import")
def import_command(
    path: Annotated[Path | None, typer.Argument(help="YAML, JSON or XLSX file.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="yaml, json or xlsx (default: extension).")] = None,
    template: Annotated[str | None, typer.Option("--template", help="A shipped template instead of a file "
                                                 "(see `voc indicators templates`).")] = None,
    author: AuthorOpt = None,
    note: Annotated[str, typer.Option("--note", help="Why this version.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Import a tree as a new version: nested `children` lists or `groups` holding `indicators`; XLSX
    with id/parent_id columns or level columns (一级指标/二级指标/…). A bad file stores nothing (exit 2)."""
    if (path is None) == (template is None):
        raise fail("give a FILE or --template NAME (one of them)")
    with _service() as svc:
        if template:
            result = svc.import_template(template, author=_who(author), note=note)
        else:
            result = svc.import_tree(path, fmt=fmt, author=_who(author), note=note)
    if as_json:
        emit_json(result)
        return
    common.console.print(f"imported {result['name']} as version {result['version']}: {result['nodes']} nodes, "
                         f"{result['indicators']} indicators", highlight=False)


@indicators_app.command("export")
def export_command(
    fmt: Annotated[str, typer.Option("--format", help="yaml, json or xlsx.")] = "yaml",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout; required for "
                                             "xlsx).")] = None,
    version: VersionOpt = None,
) -> None:
    """Export the tree (nested `children` for YAML/JSON, id/parent_id rows for XLSX)."""
    if fmt == "xlsx" and out is None:
        raise fail("xlsx needs --out FILE")
    with _service() as svc:
        data = svc.export_tree(fmt, version)
    if out is None:
        typer.echo(data.decode("utf-8"), nl=False)
    else:
        out.write_bytes(data)
        common.err_console.print(f"wrote {out}")


@indicators_app.command("show")
def show_command(version: VersionOpt = None, as_json: JsonOpt = False) -> None:
    """The tree: groups and indicators with their keywords."""
    with _service() as svc:
        tree = svc.show(version)
    if as_json:
        emit_json(tree)
        return
    common.console.print(f"[bold]{tree['name']}[/] (version {tree['version']}, {tree['nodes']} nodes)")

    def walk(nodes: list[dict[str, Any]], depth: int) -> None:
        for node in nodes:
            status = "" if node["status"] == "active" else f" [{node['status']}]"
            words = "、".join(node["keywords"][:8])
            common.console.print(f"{'  ' * depth}{node['id']}  {node['name']}{status}  [dim]{words}[/]",
                                 highlight=False)
            walk(node.get("children", []), depth + 1)

    walk(tree["indicators"], 1)


@indicators_app.command("templates")
def templates_command(as_json: JsonOpt = False) -> None:
    """The shipped templates (import one with `voc indicators import --template NAME`)."""
    with _service() as svc:
        items = svc.templates()
    if as_json:
        emit_json(items)
        return
    for item in items:
        common.console.print(f"{item['template']:<22} {item['name']} ({item['nodes']} nodes)", highlight=False)


@indicators_app.command("versions")
def versions_command(as_json: JsonOpt = False) -> None:
    """Every stored version with its author and note."""
    with _service() as svc:
        items = svc.versions()
    if as_json:
        emit_json(items)
        return
    for item in items:
        common.console.print(f"v{item['version']}  {item['created_at']}  {item['author']}  {item['note']}",
                             highlight=False)


@indicators_app.command("diff")
def diff_command(
    old: Annotated[int, typer.Argument(help="Older version.")],
    new: Annotated[int | None, typer.Argument(help="Newer version (default: latest).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """What changed between two versions: indicators added, removed and changed."""
    with _service() as svc:
        diff = svc.diff(old, new)
    if as_json:
        emit_json(diff)
        return
    out = common.console
    out.print(f"version {diff['from_version']} → {diff['to_version']}: {len(diff['added'])} added, "
              f"{len(diff['removed'])} removed, {len(diff['changed'])} changed", highlight=False)
    for mark, items in (("[green]+[/]", diff["added"]), ("[red]-[/]", diff["removed"])):
        for item in items:
            out.print(f"  {mark} {item['id']}  {' > '.join(map(str, item['path']))}", highlight=False)
    for item in diff["changed"]:
        changes = "; ".join(f"{key}: {change['from']} → {change['to']}" for key, change in item["changes"].items())
        out.print(f"  [yellow]~[/] {item['id']} {item['name']}  {changes}", highlight=False)


def pad(text: str, width: int) -> str:
    """Left-justify by display width: a Chinese character takes two terminal columns, so str.ljust
    (which counts characters) misaligns every column after a Chinese name."""
    from rich.cells import cell_len

    return text + " " * max(0, width - cell_len(text))


@indicators_app.command("coverage")
def coverage_command(source: SourceOpt = None, industry: IndustryOpt = None, as_json: JsonOpt = False) -> None:
    """Per indicator: mentions, share, net sentiment, trend and top quotes; no-evidence ones flagged.

    --source/--industry restrict it to the business line the tree describes."""
    with _service() as svc:
        report = svc.coverage(sources=source or (), industries=industry or ())
    if as_json:
        emit_json(report)
        return
    common.console.print(f"{report['mapped_documents']} of {report['documents']} documents map to an indicator")
    for row in report["indicators"]:
        net = "   –  " if row["net_sentiment"] is None else f"{row['net_sentiment']:+.2f}"
        flag = "  [red]no evidence[/]" if row["no_evidence"] else ""
        common.console.print(f"{pad(('  ' * row['level']) + row['name'], 16)} {row['mentions']:6d} {row['share']:6.1%} "
                             f"net {net}{flag}", highlight=False)


@indicators_app.command("suggest")
def suggest_command(
    min_count: Annotated[int | None, typer.Option("--min-count", min=2, help="Minimum documents of evidence "
                                                  "(default: 0.5% of documents, at least 5).")] = None,
    source: SourceOpt = None,
    industry: IndustryOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Candidate new indicators from unmapped topics and recurring aspect terms, highest priority first.

    --source/--industry restrict the evidence to the business line the tree describes."""
    with _service() as svc:
        items = svc.suggest(min_count=min_count, sources=source or (), industries=industry or ())
    if as_json:
        emit_json([_public(item) for item in items])
        return
    for item in items:
        ev = item["evidence"]
        common.console.print(f"{item['id']}  [bold]{item['name']}[/]  priority {item['priority']:.0f}  "
                             f"{ev['count']} docs, {ev['negative_rate']:.0%} negative  "
                             f"[dim]{'、'.join(item['keywords'][:6])}[/]", highlight=False)


@indicators_app.command("suggestions")
def suggestions_command(
    status: Annotated[list[str] | None, typer.Option("--status", help="pending, accepted, merged or "
                                                     "rejected (repeatable).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Stored suggestions with their review state."""
    with _service() as svc:
        items = svc.suggestions(tuple(status or ()))
    if as_json:
        emit_json([_public(item) for item in items])
        return
    for item in items:
        common.console.print(f"{item['id']}  {item['status']:<8} {item['name']}  {item.get('reviewer') or ''}",
                             highlight=False)


@indicators_app.command("review")
def review_command(
    suggestion_id: Annotated[str, typer.Argument(metavar="ID", help="Suggestion id (s-…).")],
    accept: Annotated[bool, typer.Option("--accept", help="Add it as an indicator in a new version.")] = False,
    merge_into: Annotated[str | None, typer.Option("--merge-into", metavar="IND",
                                                   help="Add its keywords to this indicator.")] = None,
    reject: Annotated[bool, typer.Option("--reject", help="Reject it (needs --reason).")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (required for --reject).")] = None,
    parent: Annotated[str | None, typer.Option("--parent", help="Group to add it under (accept).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Indicator name (accept).")] = None,
    reviewer: Annotated[str | None, typer.Option("--reviewer", help="Default: the OS user.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept, merge or reject a suggestion; every decision is in the audit trail."""
    actions = [a for a, chosen in (("accept", accept), ("merge", merge_into is not None), ("reject", reject))
               if chosen]
    if len(actions) != 1:
        raise fail("choose one of --accept, --merge-into IND, --reject")
    with _service() as svc:
        result = svc.review(suggestion_id, actions[0], reviewer=_who(reviewer), reason=reason, target=merge_into,
                            parent=parent, name=name)
    if as_json:
        emit_json(_public(result, keep=("status", "reviewer", "reviewed_at", "reason", "target", "version",
                                         "indicator", "keywords_added")))
        return
    common.console.print(f"{suggestion_id} {result['status']} (tree version {result['version']})", highlight=False)


@indicators_app.command("audit")
def audit_command(
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The audit trail: imports, suggestion runs and review decisions, newest first."""
    with _service() as svc:
        items = svc.audit(limit)
    if as_json:
        emit_json(items)
        return
    for item in items:
        common.console.print(f"{item['at']}  {item['actor']:<10} {item['action']:<22} {item['target'] or ''}  "
                             f"{json.dumps(item['detail'], ensure_ascii=False)[:100]}", highlight=False)


@indicators_app.command("preview-rule")
def preview_rule_command(
    rule: Annotated[str, typer.Argument(metavar="RULE", help="e.g. '(退款 OR 退钱) AND (到账 OR 太慢) NOT 运费险'.")],
    limit: Annotated[int, typer.Option("--limit", min=0, max=500, help="Sample size.")] = 10,
    max_documents: Annotated[int | None, typer.Option("--max-documents", min=1,
                                                      help="Stop after this many documents.")] = None,
    source: SourceOpt = None,
    industry: IndustryOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Try a rule on the stored documents: matching documents and a sample with the match marked.

    \b
    Words are matched as jieba tokens, per clause. Operators in capitals:
      a AND b · a OR b · NOT a · a NOT b (= a AND NOT b) · (…) · "退款 到账" (phrase)
      a NEAR/5 b   both, either order, at most 5 tokens apart (1-50)
      满意 misses 不满意 (a 不/没/没有/未/别/无 in the 2 tokens before); NEG(满意) matches only that
    Precedence NEAR > NOT > AND > OR; two words with no operator between them are an error.
    A bad rule exits with 2."""
    from rich.markup import escape
    from rich.text import Text

    from voc.indicators.rules import RuleSyntaxError

    with _service() as svc:
        try:
            result = svc.preview_rule(rule, limit=limit, sources=source or (), industries=industry or (),
                                      max_documents=max_documents)
        except RuleSyntaxError as exc:
            raise fail(str(exc)) from None
    if as_json:
        emit_json(result)
        return
    more = " (stopped at --max-documents)" if result["truncated"] else ""
    common.console.print(f"{result['matches']} of {result['documents_scanned']} documents match "
                         f"{escape(result['rule'])}{more}", highlight=False)
    for item in result["sample"]:
        # a Text, not markup: stored texts may hold anything, brackets included
        line = Text(f"{item['document_id']}  ")
        offset = len(line)
        line.append(item["text"])
        line.stylize("reverse", offset + item["span_start"], offset + item["span_end"])
        common.console.print(line, highlight=False)


PUBLIC_KEYS = ("id", "name", "definition", "keywords", "parent", "priority", "survey_question", "sources",
               "evidence")


def _public(item: dict[str, Any], keep: tuple[str, ...] = ("status",)) -> dict[str, Any]:
    """The suggestion as the issue specifies it, plus its review state; internals stay out."""
    return {key: item[key] for key in (*PUBLIC_KEYS, *keep) if key in item}
