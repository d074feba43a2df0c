"""`voc index sync|rebuild|status`: keep the derived search index in step with the store."""

from __future__ import annotations

import typer

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
    total = service.store.count() if rebuild else service.store.unindexed_count()
    with progress_bar(label, total, enabled=not as_json) as advance:
        report = service.rebuild_index(progress=advance) if rebuild else service.sync_index(progress=advance)
    service.close()
    _print(report.indexed, report.errors, report.pending, as_json)


@index_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Documents in the store, in the index, and waiting to be indexed."""
    service = open_service()
    values = {"backend": service.index.name, "stored": service.store.count(),
              "indexed": service.index.count(), "pending": service.store.unindexed_count()}
    service.close()
    if as_json:
        emit_json(values)
        return
    common.console.print(", ".join(f"{k} {v}" for k, v in values.items()))


def _print(indexed: int, errors: dict[str, str], pending: int, as_json: bool) -> None:
    if as_json:
        emit_json({"indexed": indexed, "errors": errors, "pending": pending})
        return
    common.console.print(f"indexed {indexed}, errors {len(errors)}, pending {pending}")
    for doc_id, reason in list(errors.items())[:20]:
        common.console.print(f"  {doc_id}: {reason}", highlight=False)
