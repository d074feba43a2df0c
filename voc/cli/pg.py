"""`voc pg start|stop|status|url`: a local PostgreSQL server (Debian's packages) for development and CI."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from voc.cli import common
from voc.cli.common import JsonOpt, emit_json, fail

if TYPE_CHECKING:
    from voc.pg_node import PgNode

pg_app = typer.Typer(
    help="A local PostgreSQL server (Debian's postgresql package) on 127.0.0.1 for a shared store.",
    no_args_is_help=True,
)
T = TypeVar("T")
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait.")]


def _node() -> PgNode:
    from voc.pg_node import PgNode, PgNodeError

    try:
        return PgNode()
    except PgNodeError as exc:
        raise fail(str(exc)) from None


def _call(action: Callable[[], T]) -> T:
    from voc.pg_node import PgNodeError

    try:
        return action()
    except PgNodeError as exc:
        raise fail(str(exc), code=1) from None


@pg_app.command("start")
def start(timeout: TimeoutOpt = 120, as_json: JsonOpt = False) -> None:
    """Create the cluster (once) and start it on 127.0.0.1 with a generated password."""
    node = _node()
    began = time.monotonic()
    status = _call(lambda: node.start(timeout=timeout))
    if as_json:
        emit_json({**status.to_dict(), "seconds": round(time.monotonic() - began, 1)})
        return
    common.console.print(f"PostgreSQL running at {status.url} ({time.monotonic() - began:.1f}s); "
                         "use VOC_DATABASE_URL=\"$(voc pg url)\"", highlight=False)


@pg_app.command("stop")
def stop(timeout: TimeoutOpt = 60, as_json: JsonOpt = False) -> None:
    """Stop the server (fast shutdown)."""
    node = _node()
    stopped = _call(lambda: node.stop(timeout=timeout))
    if as_json:
        emit_json({"stopped": stopped})
        return
    common.console.print("stopped" if stopped else "not running")


@pg_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Whether the server runs, and its URL (without the password)."""
    node = _node()
    state = _call(node.status)
    if as_json:
        emit_json(state.to_dict())
        return
    common.console.print(f"{'running' if state.running else 'not running'}: {state.url}",
                         highlight=False)


@pg_app.command("url")
def url() -> None:
    """The store URL with its password, for VOC_DATABASE_URL (keep it out of logs)."""
    node = _node()
    if node.saved_password() is None:
        raise fail("no local PostgreSQL server yet: run `voc pg start`")
    typer.echo(node.url())
