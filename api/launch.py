"""Waiting for a `voc serve` process to answer: what the benchmarks, browser tests and service tests
that start a real server share."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def wait_until_serving(base_url: str, process: subprocess.Popen[bytes], *, timeout: float = 60,
                       path: str = "/readyz", log: Path | None = None) -> None:
    """Return once ``base_url + path`` answers 200; raise RuntimeError (with the server's log when
    given) if the process exits or ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(base_url + path, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass  # not listening yet, or not ready (503)
        if process.poll() is not None or time.monotonic() > deadline:
            why = f"exited with {process.returncode}" if process.poll() is not None else f"no answer in {timeout:g} s"
            raise RuntimeError(f"voc serve at {base_url}: {why}" + (f"\n{log.read_text()}" if log else ""))
        time.sleep(0.3)
