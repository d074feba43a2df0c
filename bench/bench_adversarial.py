"""Adversarial inputs as ratios: how the cost of a pathological input grows with its size.

    .venv/bin/python bench/bench_adversarial.py [--repeats 3] [--bomb-mb 1024] [--skip-bomb]

Issue 17, items 3, 4 and 12. Each row compares a pathological input with one ten times longer, in the
same run, so the figure is a ratio and survives a noisy machine: linear work grows ~10x, quadratic ~100x.

1. Highlighting (item 3): ``indexing.base.highlight`` on one word repeated n and 10n times, and an
   end-to-end ``Voc.search`` over five such stored documents (embedded index).
2. Analysis (item 12): the shipped sentiment analyzer (clauses, aspects, lexicon hits) on an aspect word
   repeated n and 10n times.
3. XLSX decompression bomb (item 4): ``voc serve`` on loopback, an upload of a ~1 MB XLSX whose one
   shared string inflates to ``--bomb-mb`` MB; the server process's peak resident memory above its
   baseline (psutil, sampled every 20 ms), the HTTP status, and whether anything was stored.

Results: bench/results/bench_adversarial.json. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from api.launch import wait_until_serving

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
VOC = str(Path(sys.executable).parent / "voc")
WORD = "快递"  # contains 快, an opinion word masked inside the aspect term: the case that was quadratic (item 12)


def best_of(repeats: int, work: Callable[[], Any]) -> float:
    """Smallest wall time of ``repeats`` runs: the least disturbed by other processes."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def growth(name: str, repeats: int, small: int, run: Callable[[int], Any]) -> dict[str, Any]:
    run(small)  # warm caches (jieba dictionary, models) outside the timing
    short = best_of(repeats, lambda: run(small))
    long = best_of(repeats, lambda: run(small * 10))
    row = {"what": name, "n": small, "seconds_n": round(short, 4), "seconds_10n": round(long, 4),
           "ratio": round(long / max(short, 1e-9), 1)}
    print(f"{name:<40} n={small:>6}  {short:8.4f} s  10n: {long:8.4f} s  ratio {row['ratio']:6.1f}x")
    return row


def highlight_rows(repeats: int, home: Path) -> list[dict[str, Any]]:
    from indexing.base import highlight
    from voc.service import Voc
    from voc.settings import VocSettings

    rows = [growth("highlight(text, [word])", repeats, 2_000, lambda n: highlight(WORD * n, [WORD]))]

    def search(n: int) -> None:
        settings = VocSettings(home=home / f"search-{n}", analysis_stages=[])
        source = home / f"repeat-{n}.jsonl"
        with source.open("w", encoding="utf-8") as out:
            for number in range(5):
                row = {"id": f"r{number}", "text": f"第{number}条" + WORD * n}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        voc = Voc(settings)
        try:
            voc.ingest(source, "review")
            voc.search(WORD, limit=20)  # first query warms the connection
            timings.append(best_of(repeats, lambda: voc.search(WORD, limit=20)))
        finally:
            voc.close()

    timings: list[float] = []
    search(1_000)
    search(10_000)
    rows.append({"what": "Voc.search over 5 stored texts, 20 hits", "n": 1_000, "seconds_n": round(timings[0], 4),
                 "seconds_10n": round(timings[1], 4), "ratio": round(timings[1] / max(timings[0], 1e-9), 1)})
    print(f"{rows[-1]['what']:<40} n={1_000:>6}  {timings[0]:8.4f} s  10n: {timings[1]:8.4f} s  "
          f"ratio {rows[-1]['ratio']:6.1f}x")
    return rows


def analysis_rows(repeats: int) -> list[dict[str, Any]]:
    from voc.sentiment import load_analyzer
    from voc.settings import VocSettings

    analyzer = load_analyzer(VocSettings())
    return [growth("sentiment analyze([word * n])", repeats, 1_000, lambda n: analyzer.analyze([WORD * n])),
            growth("analyze([word + '很慢，' * n])", repeats, 300,
                   lambda n: analyzer.analyze([(WORD + "很慢，") * n]))]


def bomb_xlsx(inflated_mb: int) -> bytes:
    """A valid XLSX whose second shared string is ``inflated_mb`` MB of one letter (~1 MB once deflated)."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006"
    office = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{package}/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{office}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{office}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{office}.sharedStrings+xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        archive.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        archive.writestr("xl/_rels/workbook.xml.rels", (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'))
        archive.writestr("xl/worksheets/sheet1.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>'
            '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>'
            "</sheetData></worksheet>"))
        # Streamed into the archive a megabyte at a time: the bomb is never whole in this process's memory.
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            member.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {ns} count="2" uniqueCount="2">'
                         "<si><t>text</t></si><si><t>".encode())
            chunk = b"a" * (1 << 20)
            for _ in range(inflated_mb):
                member.write(chunk)
            member.write(b"</t></si></sst>")
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def multipart(fields: dict[str, str], name: str, payload: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in fields.items()]
    parts.append((f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                  "Content-Type: application/octet-stream\r\n\r\n").encode() + payload + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def bomb_row(home: Path, inflated_mb: int) -> dict[str, Any]:
    payload = bomb_xlsx(inflated_mb)
    env = {**os.environ, "VOC_HOME": str(home / "bomb"), "VOC_ANALYSIS_STAGES": "[]"}
    key = json.loads(subprocess.run([VOC, "keys", "create", "--role", "admin", "--json"], env=env, check=True,
                                    capture_output=True, text=True).stdout)["key"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = home / "bomb-server.log"
    with log.open("wb") as log_handle:
        server = subprocess.Popen([VOC, "serve", "--port", str(port), "--no-access-log"], env=env,
                                  stdout=log_handle, stderr=subprocess.STDOUT)
    try:
        wait_until_serving(base, server, log=log)
        process = psutil.Process(server.pid)
        time.sleep(1.0)
        baseline = process.memory_info().rss
        peak = baseline
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, process.memory_info().rss)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        body, content_type = multipart({"source": "review"}, "bomb.xlsx", payload)
        request = urllib.request.Request(f"{base}/v1/documents/upload", data=body, method="POST", headers={
            "Authorization": f"Bearer {key}", "Content-Type": content_type})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                status, answer = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, answer = error.code, error.read().decode()
        seconds = time.perf_counter() - started
        time.sleep(0.5)
        done.set()
        sampler.join()
        search = urllib.request.Request(f"{base}/v1/search?limit=1", headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(search, timeout=60) as response:
            stored = json.loads(response.read())["total"]
        row = {"what": "XLSX bomb upload", "upload_mb": round(len(payload) / 1e6, 2), "inflates_to_mb": inflated_mb,
               "status": status, "answer": answer[:300], "seconds": round(seconds, 2),
               "baseline_rss_mb": round(baseline / 2**20),
               "peak_rss_above_baseline_mb": round((peak - baseline) / 2**20),
               "rss_after_mb": round(process.memory_info().rss / 2**20), "documents_stored": stored}
        print(f"XLSX bomb: {row['upload_mb']} MB upload -> {inflated_mb} MB inflated: HTTP {status} "
              f"in {seconds:.1f} s, "
              f"peak RSS +{row['peak_rss_above_baseline_mb']} MB over {row['baseline_rss_mb']} MB, stored {stored}")
        return row
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bomb-mb", type=int, default=1024, help="how far the bomb's one cell inflates (MB)")
    parser.add_argument("--skip-bomb", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voc-adversarial-") as folder:
        home = Path(folder)
        rows = highlight_rows(args.repeats, home) + analysis_rows(args.repeats)
        if not args.skip_bomb:
            rows.append(bomb_row(home, args.bomb_mb))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_adversarial.json").write_text(json.dumps(
        {"cpus": os.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M"), "rows": rows}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
