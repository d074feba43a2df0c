"""API benchmark: `voc serve --workers 2` on loopback under wrk.

    .venv/bin/python bench/bench_api.py [--docs 100000] [--duration 20] [--connections 8[,4,...]]
        [--index embedded|elasticsearch] [--home DIR]

1. Build a review corpus of ``--docs`` documents in a temporary VOC_HOME from ../shared/data
   (online_shopping_10_cats, waimai_10k, chnsenticorp_htl_all, then smp2020 posts to make up the
   count; stores, channels and dates spread out) and ingest it with `voc ingest` (not timed here).
2. Create an admin key without a rate limit; start `voc serve --workers 2 --no-access-log`.
3. wrk (Lua scripts for the POST bodies, the key and the query mix): POST /v1/analyze with one short
   text, POST /v1/analyze with 32 texts, GET /v1/search over 2,000 distinct queries (terms, filters,
   sorts, facets). Throughput and p50/p90/p99 latency at each number of open connections given
   (latency under a closed loop grows with the connections kept busy); resident memory of each
   worker (psutil), sampled through the runs. Results: bench/results/bench_api.json.
Needs wrk (`apt-get install wrk`). Everything stays on 127.0.0.1; nothing is written into the repo
except the results file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil

from api.launch import wait_until_serving

ROOT = Path(__file__).resolve().parent
DATA = ROOT.parent.parent / "shared" / "data"
RESULTS = ROOT / "results"
VOC = str(Path(sys.executable).parent / "voc")
SOURCES = [("online_shopping_10_cats/online_shopping_10_cats.csv", "review"),
           ("waimai_10k/waimai_10k.csv", "review"), ("chnsenticorp_htl_all/ChnSentiCorp_htl_all.csv", "review"),
           ("smp2020_ewect/usual_train_modified.csv", "content")]
SHORT_TEXTS = ["快递太慢了，等了一个星期", "味道不错，分量足", "客服态度很差，电话打不通", "包装破损，东西还行",
               "性价比很高，下次还买", "房间干净，服务热情", "送餐超时一个小时，饭都凉了", "屏幕清晰，电池一般"]
DONE_LUA = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
    + summary.errors.timeout
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, '
    .. '"p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\\n', summary.requests, summary.duration,
    errors, summary.errors.status, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def build_corpus(path: Path, docs: int) -> int:
    rng = random.Random(0)
    stores = [f"店铺{n:02d}" for n in range(40)]
    channels = ["app", "web", "小程序", "电话"]
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "text", "time", "store", "channel", "product"])
        for name, column in SOURCES:
            with (DATA / name).open(encoding="utf-8-sig", newline="") as handle:
                for row in csv.DictReader(handle):
                    text = (row.get(column) or row.get("review") or "").lstrip("\ufeff").strip()
                    if not text:
                        continue
                    day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:00"
                    writer.writerow([f"b{written}", text[:2000], day, rng.choice(stores), rng.choice(channels),
                                     row.get("cat") or Path(name).parent.name])
                    written += 1
                    if written >= docs:
                        return written
    return written


def search_paths(count: int) -> list[str]:
    rng = random.Random(1)
    words = ["快递", "物流", "客服", "质量", "价格", "包装", "味道", "服务", "房间", "屏幕", "电池", "送餐", "不错",
             "太慢", "退货", "发票", "早餐", "前台", "卫生", "性价比", "外卖", "酒店", "手机", "衣服", "书", "水果",
             "洗发水", "电脑", "平板", "蒙牛", "热水器", "速度", "态度", "失望", "满意", "推荐", "便宜", "好吃"]
    paths = []
    for n in range(count):
        kind = n % 4
        params: list[tuple[str, str]] = [("limit", "20")]
        if kind in (0, 2, 3):
            params.append(("q", rng.choice(words)))
        if kind == 1:
            params.append(("q", f"{rng.choice(words)} {rng.choice(words)}"))
        if kind == 2:
            params += [("store", f"店铺{rng.randrange(40):02d}"), ("sentiment", rng.choice(["negative", "positive"])),
                       ("since", f"2025-{rng.randint(1, 6):02d}-01"), ("sort", "newest")]
        if kind != 3:
            params.append(("facets", "none"))  # kind 3: every facet over the whole match
        paths.append("/v1/search?" + urlencode(params))
    return paths


def lua_script(directory: Path, name: str, key: str, *, method: str, bodies: list[str] | None = None,
               paths: list[str] | None = None) -> Path:
    items = bodies if bodies is not None else paths or []
    quoted = ",\n".join(json.dumps(item, ensure_ascii=False) for item in items)
    script = f"""
local items = {{ {quoted} }}
local n = 0
wrk.method = "{method}"
wrk.headers["Authorization"] = "Bearer {key}"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local item = items[(n % #items) + 1]
  {"return wrk.format(nil, nil, nil, item)" if bodies is not None else "return wrk.format(nil, item)"}
end
{DONE_LUA}"""
    path = directory / f"{name}.lua"
    path.write_text(script, encoding="utf-8")
    return path


class RssSampler(threading.Thread):
    """Peak resident memory of each server worker, sampled every 0.2 s."""

    def __init__(self, server: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.peaks: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for child in self.server.children(recursive=True):
                try:
                    if "spawn_main" in " ".join(child.cmdline()):  # uvicorn's workers, not the resource tracker
                        self.peaks[child.pid] = max(self.peaks.get(child.pid, 0), child.memory_info().rss)
                except psutil.Error:
                    continue
            time.sleep(0.2)


def wrk(url: str, script: Path, duration: int, connections: int) -> dict[str, Any]:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(script),
                          url], capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    result["requests_per_s"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=20, help="Seconds per wrk run.")
    parser.add_argument("--connections", default="8", help="Open connections per wrk run; a comma list runs each.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--index", choices=["embedded", "elasticsearch"], default="embedded",
                        help="Search backend; elasticsearch uses the `voc es` node (start it first) and its own "
                             "index prefix, vocbench.")
    parser.add_argument("--home", type=Path, help="Keep the ingested VOC_HOME here and reuse it on the next run "
                                                  "(outside the repository; default a temporary one).")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="voc-bench-api-"))
    home = args.home or work / "home"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("VOC_")}, "VOC_HOME": str(home)}
    if args.index == "elasticsearch":
        env.update(VOC_INDEX="elasticsearch", VOC_ES_URL="http://127.0.0.1:9200", VOC_ES_INDEX_PREFIX="vocbench")
    try:
        corpus = work / "corpus.csv"
        count = build_corpus(corpus, args.docs)
        started = time.perf_counter()
        ingest = json.loads(subprocess.run([VOC, "ingest", str(corpus), "--source", "review", "--json"], env=env,
                                           capture_output=True, text=True, check=True).stdout)
        stored = ingest["accepted"] + ingest["duplicates"]  # a reused home already holds them
        print(f"ingested {stored:,} of {count:,} documents in {time.perf_counter() - started:.0f}s", flush=True)
        key = json.loads(subprocess.run([VOC, "keys", "create", "--role", "admin", "--rate-limit", "0", "--json"],
                                        env=env, capture_output=True, text=True, check=True).stdout)["key"]
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen([VOC, "serve", "--port", str(port), "--workers", str(args.workers),
                                   "--no-access-log", "--log-level", "warning"], env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(base, server, timeout=120)
            time.sleep(2)  # every worker has finished its start-up (model warm-up)
            sampler = RssSampler(psutil.Process(server.pid))
            sampler.start()
            single = [json.dumps({"texts": [text]}, ensure_ascii=False) for text in SHORT_TEXTS]
            rng = random.Random(2)
            batches = [json.dumps({"texts": rng.sample(SHORT_TEXTS * 4, 32)}, ensure_ascii=False) for _ in range(8)]
            runs = {
                "analyze_single": lua_script(work, "single", key, method="POST", bodies=single),
                "analyze_batch32": lua_script(work, "batch", key, method="POST", bodies=batches),
                "search_100k": lua_script(work, "search", key, method="GET", paths=search_paths(2000)),
            }
            results: dict[str, Any] = {}
            for connections in [int(c) for c in args.connections.split(",")]:
                for name, script in runs.items():
                    url = f"{base}/v1/analyze" if name.startswith("analyze") else base
                    wrk(url, script, 3, connections)  # warm-up, not reported
                    run = f"{name}_c{connections}"
                    results[run] = wrk(url, script, args.duration, connections)
                    if name == "analyze_batch32":
                        results[run]["texts_per_s"] = round(results[run]["requests_per_s"] * 32, 1)
                    print(run, results[run], flush=True)
            sampler.stop.set()
            sampler.join()
        finally:
            server.terminate()
            server.wait(timeout=30)
        report = {
            "date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "documents": stored, "index": args.index,
            "workers": args.workers, "connections": args.connections, "duration_s": args.duration,
            "worker_rss_mb": sorted(round(rss / 2**20) for rss in sampler.peaks.values()), "runs": results,
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        name = "bench_api.json" if args.index == "embedded" else f"bench_api_{args.index}.json"
        (RESULTS / name).write_text(json.dumps(report, indent=2), encoding="utf-8")
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
