"""What the browser tests share: `voc serve` on a free loopback port over a prepared VOC_HOME, and the
system Chromium under Playwright (nothing is downloaded)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from api.launch import wait_until_serving

CHROMIUM = Path("/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(home: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`voc serve` over ``home`` (plus ``env``, none of the caller's VOC_* variables); yields its URL."""
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VOC_")} | {"VOC_HOME": str(home)}
    full_env |= env or {}
    voc_bin = Path(sys.executable).with_name("voc")
    command = [str(voc_bin) if voc_bin.exists() else shutil.which("voc") or "voc", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log", "--log-level", "warning"]
    log = (home / "serve.log").open("wb")
    process = subprocess.Popen(command, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, path="/healthz", log=home / "serve.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextmanager
def chromium(sync_api: Any) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()
