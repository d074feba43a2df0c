"""`voc index sync|rebuild|status`: keep the derived search index in step with the store."""

from __future__ import annotations

from pathlib import Path

import typer

from indexing.damage import check_file, move_aside
from indexing.health import check_index
from voc.cli import common
from voc.cli.common import JsonOpt, emit_json, open_service, progress_bar

index_app = typer.Typer(help="The search index (derived from the document store).", no_args_is_help=True)


@index_app.command("sync")
def sync(as_json: JsonOpt = False) -> None:
    """Index stored documents that are not indexed yet (resumes an interrupted run)."""
    _run("index", rebuild=False, as_json=as_json)


@index_app.command("rebuild")
@index_app.command("reindex")
def rebuild(as_json: JsonOpt = False) -> None:
    """Rebuild the index from the document store (Elasticsearch: a new version, then an atomic alias swap)."""
    _run("reindex", rebuild=True, as_json=as_json)


def _run(label: str, *, rebuild: bool, as_json: bool) -> None:
    service = open_service()
    if rebuild and service.settings.index == "embedded":
        _set_damaged_file_aside(service.settings.embedded_index_path)
    total = service.store.count() if rebuild else service.store.unindexed_count()
    with progress_bar(label, total, enabled=not as_json) as advance:
        report = service.rebuild_index(progress=advance) if rebuild else service.sync_index(progress=advance)
    health = check_index(service)  # a sync adds what is new: it cannot mend a damaged or emptied index
    service.close()
    _print(report.indexed, report.errors, report.pending, as_json)
    if health.problem:
        raise common.fail(health.problem, code=1)


def _set_damaged_file_aside(path: Path) -> None:
    """The store is the truth: a damaged index file is moved aside (kept, never deleted) and rebuilt."""
    why = check_file(path)
    if why is None:
        return
    kept = move_aside(path)
    common.err_console.print(f"the search index file was damaged ({why}); moved it to {kept} and rebuilding it "
                             "from the document store", highlight=False, soft_wrap=True)


@index_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Documents in the store, in the index, and waiting to be indexed; exit 1 when the index is
    damaged or holds fewer documents than the store has marked indexed (then run `voc index rebuild`)."""
    service = open_service()
    health = check_index(service)
    values: dict[str, object] = {"backend": service.settings.index, "stored": service.store.count(),
                                 "indexed": health.in_index, "pending": service.store.unindexed_count()}
    service.close()
    if health.problem:
        values["problem"] = health.problem
    if health.stale_fields:
        values["stale_fields"] = list(health.stale_fields)
    if as_json:
        emit_json(values)
    else:
        common.console.print(", ".join(f"{k} {v}" for k, v in values.items() if k not in ("problem", "stale_fields")),
                             highlight=False)
        if health.note:
            common.err_console.print(health.note, highlight=False, soft_wrap=True)
    if health.problem:
        raise common.fail(health.problem, code=1)


def _print(indexed: int, errors: dict[str, str], pending: int, as_json: bool) -> None:
    if as_json:
        emit_json({"indexed": indexed, "errors": errors, "pending": pending})
        return
    common.console.print(f"indexed {indexed}, errors {len(errors)}, pending {pending}")
    for doc_id, reason in list(errors.items())[:20]:
        common.console.print(f"  {doc_id}: {reason}", highlight=False)
