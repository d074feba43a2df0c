"""Finding the Elasticsearch node tests should use (VOC_ES_* variables, else the local `voc es` node).

Read once at import time: the test suite's autouse fixture clears VOC_* variables per test.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from indexing.es_bulk import Connection, EsUnavailable, RetryPolicy, call

if TYPE_CHECKING:
    from voc.es_node import EsNode

DEFAULT_URL = "http://127.0.0.1:9200"
_URL = os.environ.get("VOC_ES_URL") or DEFAULT_URL
_ENV = {key: value for key, value in os.environ.items() if key.startswith("VOC_ES_") or key == "XDG_CACHE_HOME"}
_probe: tuple[Connection | None, str] | None = None


def node_connection() -> tuple[Connection | None, str]:
    """(connection, "") when a node answers; (None, why) when none is reachable. Cached per process."""
    global _probe
    if _probe is not None:
        return _probe
    connection = Connection.from_url(
        _URL, username=_ENV.get("VOC_ES_USERNAME"), password=_ENV.get("VOC_ES_PASSWORD"),
        api_key=_ENV.get("VOC_ES_API_KEY"),
        ca_cert=Path(_ENV["VOC_ES_CA_CERT"]) if _ENV.get("VOC_ES_CA_CERT") else None, timeout=60)
    if not (connection.username or connection.api_key):
        from voc.es_node import local_credentials

        creds = local_credentials(connection.url, _ENV)
        if creds:
            connection.username, connection.password = creds
    probe = Connection(url=connection.url, username=connection.username, password=connection.password,
                       api_key=connection.api_key, ca_cert=connection.ca_cert, timeout=3)
    client = probe.client()
    try:
        call(lambda: client.cluster.health(), probe, RetryPolicy(max_attempts=1))
        _probe = (connection, "")
    except EsUnavailable as exc:
        if "cannot reach" not in str(exc):
            raise  # a node that answers but refuses us is a failure, not a reason to skip
        _probe = (None, f"no Elasticsearch node reachable at {connection.url} ({exc}); "
                        "start one with `voc es start` or set VOC_ES_URL")
    finally:
        client.close()
    return _probe



def managed_node() -> EsNode | None:
    """The `voc es` node, when it is the one the tests talk to (tests that restart it need that)."""
    from voc.es_node import EsNode, NodeConfig

    config = NodeConfig.from_env(_ENV)
    if config.version == "latest":
        return None
    node = EsNode(config)
    connection, _ = node_connection()
    if connection is None or connection.url != config.url or node.pid() is None:
        return None
    return node


def unique_prefix() -> str:
    return f"voctest-{uuid.uuid4().hex[:10]}"
