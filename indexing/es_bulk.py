"""Talking to Elasticsearch safely: client construction, credential hygiene, retries, sized bulk writes.

One retry policy for every request (exponential backoff on 429, 5xx and connection errors), so the
client's own retries are switched off. Error messages pass through :func:`scrub`, which removes every
secret the client was built with, so no password or API key reaches a log line or an exception.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, AuthenticationException, AuthorizationException, Elasticsearch

from indexing import BackendUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class EsUnavailable(BackendUnavailable):
    """Elasticsearch could not be reached or refused the request; the message holds no secrets."""


@dataclass(slots=True)
class Connection:
    """Where and how to connect; built from settings, with credentials moved out of the URL."""

    url: str
    username: str | None = None
    password: str | None = None
    api_key: str | None = None
    ca_cert: Path | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Connection:
        parts = urlsplit(url)
        if parts.username is not None:
            # user:pass@host in the URL would be echoed by connection errors; lift it into basic auth.
            kwargs.setdefault("username", unquote(parts.username))
            kwargs.setdefault("password", unquote(parts.password or ""))
            netloc = parts.hostname or ""
            if parts.port:
                netloc += f":{parts.port}"
            url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
        return cls(url=url.rstrip("/"), **kwargs)

    @property
    def secrets(self) -> list[str]:
        values = [self.password, self.api_key]
        if self.username and self.password:
            import base64

            values.append(base64.b64encode(f"{self.username}:{self.password}".encode()).decode())
        return [v for v in values if v]

    def client(self) -> Elasticsearch:
        options: dict[str, Any] = {"request_timeout": self.timeout, "max_retries": 0, "retry_on_timeout": False}
        if self.api_key:
            options["api_key"] = self.api_key
        elif self.username:
            options["basic_auth"] = (self.username, self.password or "")
        if self.ca_cert:
            options["ca_certs"] = str(self.ca_cert)
        return Elasticsearch(self.url, **options)

    def __repr__(self) -> str:  # dataclass repr would print the password
        return f"Connection(url={self.url!r}, auth={'api_key' if self.api_key else 'basic' if self.username else None})"


def scrub(message: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


@dataclass(slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: 0.5 s, 1 s, 2 s ... capped at ``max_delay``.

    Six attempts wait about 15 s in all: enough for backpressure (429) and a node restart on a
    cluster; a longer outage fails the run, which then resumes where it stopped when run again.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        raw = min(self.max_delay, self.base_delay * 2 ** attempt)
        return raw * (0.8 + 0.4 * random.random())


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, TransportConnectionError | ConnectionTimeout):
        return True
    return isinstance(exc, ApiError) and exc.meta.status in RETRY_STATUSES


def describe(exc: Exception, connection: Connection) -> str:
    if isinstance(exc, AuthenticationException):
        text = (f"Elasticsearch at {connection.url} rejected the credentials "
                "(check VOC_ES_USERNAME/VOC_ES_PASSWORD or VOC_ES_API_KEY)")
    elif isinstance(exc, AuthorizationException):
        text = f"the Elasticsearch user is not allowed to do this: {exc.message}"
    elif isinstance(exc, ApiError):
        text = f"Elasticsearch error {exc.meta.status}: {exc.message} {_reason(exc.body)}".strip()
    elif isinstance(exc, TransportConnectionError | ConnectionTimeout):
        text = f"cannot reach Elasticsearch at {connection.url} ({type(exc).__name__})"
    else:
        text = f"Elasticsearch request failed: {type(exc).__name__}"
    return scrub(text, connection.secrets)


def _reason(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return f"{error.get('type', '')}: {error.get('reason', '')}"
    return ""


def call(fn: Callable[[], T], connection: Connection, policy: RetryPolicy, what: str = "request") -> T:
    """Run one request, retrying transient failures; any final failure becomes a scrubbed EsUnavailable."""
    for attempt in range(policy.max_attempts):
        try:
            return fn()
        except (ApiError, TransportConnectionError, ConnectionTimeout) as exc:
            if not _retryable(exc) or attempt == policy.max_attempts - 1:
                raise EsUnavailable(describe(exc, connection)) from None
            wait = policy.delay(attempt)
            log.warning("%s: %s; retrying in %.1fs", what, describe(exc, connection), wait)
            policy.sleep(wait)
    raise AssertionError("unreachable")


@dataclass(slots=True)
class BulkOutcome:
    ok: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # id -> reason
    results: dict[str, str] = field(default_factory=dict)  # id -> "created"/"updated"/"deleted"/"not_found"
    requests: int = 0


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode_action(action: str, doc_id: str, body: dict[str, Any] | None, **meta: Any) -> bytes:
    """One bulk action as NDJSON bytes (encoded once, so requests can be sized exactly)."""
    head = _COMPACT.encode({action: {"_id": doc_id, **meta}})
    if body is None:
        return (head + "\n").encode()
    return (head + "\n" + _COMPACT.encode(body) + "\n").encode()


def chunk_by_bytes(items: Iterable[tuple[str, bytes]], max_bytes: int, max_docs: int
                   ) -> Iterator[list[tuple[str, bytes]]]:
    """Group encoded actions into requests under ``max_bytes`` (a larger single action goes alone)."""
    chunk: list[tuple[str, bytes]] = []
    size = 0
    for doc_id, payload in items:
        if chunk and (size + len(payload) > max_bytes or len(chunk) >= max_docs):
            yield chunk
            chunk, size = [], 0
        chunk.append((doc_id, payload))
        size += len(payload)
    if chunk:
        yield chunk


class BulkWriter:
    """Bulk requests sized by bytes; whole-request and per-item retries; a per-document error report."""

    def __init__(self, client: Elasticsearch, connection: Connection, policy: RetryPolicy,
                 max_bytes: int = 5_000_000, max_docs: int = 5_000) -> None:
        self.client = client
        self.connection = connection
        self.policy = policy
        self.max_bytes = max_bytes
        self.max_docs = max_docs

    def send(self, index: str, actions: Iterable[tuple[str, bytes]]) -> BulkOutcome:
        outcome = BulkOutcome()
        for chunk in chunk_by_bytes(actions, self.max_bytes, self.max_docs):
            self._send_chunk(index, chunk, outcome)
        return outcome

    def _send_chunk(self, index: str, chunk: list[tuple[str, bytes]], outcome: BulkOutcome) -> None:
        pending = chunk
        for attempt in range(self.policy.max_attempts):
            body = b"".join(payload for _, payload in pending)
            outcome.requests += 1
            response = call(lambda body=body: self.client.bulk(index=index, operations=body),
                            self.connection, self.policy, "bulk")
            retry: list[tuple[str, bytes]] = []
            for (doc_id, payload), item in zip(pending, response["items"], strict=True):
                result = next(iter(item.values()))
                status = int(result.get("status", 500))
                if status < 300 or (status == 404 and result.get("result") == "not_found"):
                    outcome.ok.append(doc_id)
                    outcome.results[doc_id] = result.get("result", "")
                elif status in RETRY_STATUSES and attempt < self.policy.max_attempts - 1:
                    retry.append((doc_id, payload))  # e.g. a full write queue rejects single items
                else:
                    outcome.errors[doc_id] = scrub(_item_reason(result), self.connection.secrets)
                    outcome.results[doc_id] = "error"
            if not retry:
                return
            pending = retry
            self.policy.sleep(self.policy.delay(attempt))


def _item_reason(result: dict[str, Any]) -> str:
    error = result.get("error")
    if isinstance(error, dict):
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            reason += f" ({cause['reason']})"
        return reason
    return f"status {result.get('status')}: {error or result.get('result', 'unknown')}"
