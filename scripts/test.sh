#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh machine: a virtualenv with every extra, a real
# Elasticsearch 8 node from Maven Central (mvn + Java 17) on 127.0.0.1:9200 for the backend
# contract tests, then pytest. The node is stopped however the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/pip install -e '.[dev,ml]'
trap '.venv/bin/voc es stop || true' EXIT
.venv/bin/voc es start
export VOC_ES_URL=http://127.0.0.1:9200  # tests read the node's credentials file; no secret in env or logs
.venv/bin/python -m pytest "$@"
