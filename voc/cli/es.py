"""`voc es start|stop|status`: a local single-node Elasticsearch for development and CI."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from voc.cli import common
from voc.cli.common import JsonOpt, emit_json, fail

if TYPE_CHECKING:
    from voc.es_node import EsNode

es_app = typer.Typer(
    help="A local Elasticsearch node (fetched from Maven Central, run with the machine's Java 17).",
    no_args_is_help=True,
)
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait.")]


def _node() -> EsNode:
    # imported here so `voc --help` does not load the node manager
    from voc.es_node import EsNode, NodeError

    try:
        return EsNode()
    except NodeError as exc:
        raise fail(str(exc)) from None


@es_app.command("start")
def start(timeout: TimeoutOpt = 240, as_json: JsonOpt = False) -> None:
    """Download (once), configure and start the node, then wait until the cluster is green."""
    from voc.es_node import NodeError

    node = _node()
    began = time.monotonic()
    try:
        status = node.start(timeout=timeout)
    except NodeError as exc:
        raise fail(str(exc), code=1) from None
    if as_json:
        emit_json({**status.to_dict(), "seconds": round(time.monotonic() - began, 1)})
        return
    common.console.print(f"Elasticsearch {status.version} running at {status.url} "
                         f"({time.monotonic() - began:.1f}s); use VOC_INDEX=elasticsearch VOC_ES_URL={status.url}",
                         highlight=False)


@es_app.command("stop")
def stop(timeout: TimeoutOpt = 60, as_json: JsonOpt = False) -> None:
    """Stop the node (SIGTERM, then SIGKILL after the timeout)."""
    stopped = _node().stop(timeout=timeout)
    if as_json:
        emit_json({"stopped": stopped})
        return
    common.console.print("stopped" if stopped else "not running")


@es_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Whether the node is running, its URL and version."""
    current = _node().status()
    if as_json:
        emit_json(current.to_dict())
        return
    state = f"running, version {current.version}" if current.running else "not running"
    common.console.print(f"{current.url}: {state}", highlight=False)
