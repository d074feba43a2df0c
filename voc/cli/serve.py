"""`voc serve`: the REST API (api/) under uvicorn."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated

import typer

from voc.cli.common import fail, open_service


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Server processes (each loads the models).")] = 1,
    log_level: Annotated[str, typer.Option("--log-level", help="critical, error, warning, info, debug.")] = "info",
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="Log every request.")] = True,
) -> None:
    """Serve the REST API: /v1 routes with API keys (`voc keys create`), /healthz, /readyz, /metrics, /docs."""
    import uvicorn

    from api.app import prepare

    prepare(open_service().settings)  # invalid settings fail here, once; tables exist before workers start
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its metrics here and /metrics sums them, whichever worker answers.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="voc-metrics-")
    if log_level not in ("critical", "error", "warning", "info", "debug"):
        raise fail("--log-level must be one of critical, error, warning, info, debug")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                access_log=access_log, proxy_headers=False, server_header=False)
