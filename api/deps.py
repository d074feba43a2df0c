"""What routes depend on: the per-app state, and `require(permission)` for auth, rate limit and role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import ApiKey, KeyStore
from api.errors import ApiError
from api.jobs import JobRunner, jobs_engine
from api.metrics import Metrics
from api.ratelimit import FailedAuthLimiter, RateLimiter, retry_after_header
from voc.scopes.scoped import ScopeViews
from voc.service import Voc
from voc.settings import VocSettings

if TYPE_CHECKING:
    from voc.indicators.service import IndicatorService


class ApiVoc(Voc):
    """The service facade as the server uses it from many threads (every search backend is safe to
    share between threads)."""

    @cached_property
    def indicators(self) -> IndicatorService:
        from voc.indicators.service import IndicatorService  # imports scikit-learn: only when first used

        return IndicatorService(self)


@dataclass(slots=True)
class ApiState:
    settings: VocSettings
    voc: ApiVoc
    keys: KeyStore
    jobs: JobRunner
    limiter: RateLimiter
    metrics: Metrics
    auth_failures: FailedAuthLimiter
    scopes: ScopeViews  # the facade a scoped key gets instead of ``voc`` (voc.scopes)

    @classmethod
    def from_settings(cls, settings: VocSettings) -> ApiState:
        # One process per server worker: ingest must not fork a process pool out of a threaded server.
        # Webhooks after an ingest go out from a background thread: a slow receiver never holds a request.
        voc = ApiVoc(settings.model_copy(update={"workers": 1, "alerts_background_delivery": True}))
        jobs = JobRunner(jobs_engine(voc.store.engine, settings.home))
        return cls(settings=settings, voc=voc, keys=KeyStore(voc.store.engine), jobs=jobs,
                   limiter=RateLimiter(settings.api_rate_limit_per_minute, settings.api_rate_limit_burst),
                   metrics=Metrics(), auth_failures=FailedAuthLimiter(settings.api_auth_failures_per_minute,
                                                                      settings.api_auth_failure_burst),
                   scopes=ScopeViews(voc))

    def close(self) -> None:
        """Release connections and threads. The state stays usable: an app may be started and stopped
        more than once (test clients do), so what was closed is reopened on next use."""
        self.jobs.shutdown()
        if self.jobs.engine is not self.voc.store.engine:
            self.jobs.engine.dispose()
        self.voc.close()  # a disposed SQLAlchemy engine reconnects by itself; the index does not
        self.voc.__dict__.pop("index", None)


def app_state(request: Request) -> ApiState:
    return request.app.state.voc_api  # type: ignore[no-any-return]


async def get_state(request: Request) -> ApiState:
    """The dependency: async, as FastAPI runs a plain function dependency in its thread pool.

    For a scoped key, the state's ``voc`` is the scoped facade (voc.scopes.ScopedVoc): routes never check
    a scope themselves. The key is checked here or in ``require`` (which answers 401/403/429), whichever
    runs first, once per request, through the failed-key limiter."""
    state = app_state(request)
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return state
    key = _request_key(state, request, presented.strip())
    if key is None or not key.scope:
        return state
    return replace(state, voc=state.scopes.view(key.scope))


State = Annotated[ApiState, Depends(get_state)]

bearer = HTTPBearer(auto_error=False, description="An API key from `voc keys create`, as `Bearer <key>`.")


def require(permission: str | None = None) -> Callable[..., Awaitable[ApiKey]]:
    """Dependency: a valid key (401), within its rate (429), whose role grants ``permission`` (403).

    ``None`` only asks for a valid key, whatever the role.
    """

    async def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
    ) -> ApiKey:
        state = app_state(request)
        key = _request_key(state, request, credentials.credentials) if credentials else None
        if key is None:
            raise ApiError(401, "a valid API key is required: Authorization: Bearer <key>",
                           headers={"WWW-Authenticate": "Bearer"})
        wait = state.limiter.acquire(key.id, key.rate_limit_per_minute)
        if wait > 0:
            raise ApiError(429, "rate limit exceeded for this API key", details={"retry_after_s": round(wait, 2)},
                           headers={"Retry-After": retry_after_header(wait)})
        if permission is not None and not key.can(permission):
            raise ApiError(403, f"the {key.role} role may not do this (needs {permission!r})",
                           details={"role": key.role, "permission": permission})
        request.state.api_key = key
        return key

    dependency.__name__ = f"require_{permission or 'key'}"
    return dependency


def _request_key(state: ApiState, request: Request, presented: str) -> ApiKey | None:
    """``_checked_key`` once per request: the scope lookup (``get_state``) and ``require`` both need the
    key, and a second check would count one bad key as two failures, or verify a key against the store
    while its address is blocked."""
    checked: dict[str, ApiKey | None] = request.state.__dict__.setdefault("checked_keys", {})
    if presented not in checked:
        checked[presented] = _checked_key(state, request, presented)
    return checked[presented]


def _checked_key(state: ApiState, request: Request, presented: str) -> ApiKey | None:
    """The key's record, or None; a client address that failed too often is refused (429) before its key
    is looked at, unless the key is one this worker verified moments ago."""
    key = state.keys.recently_verified(presented)
    if key is not None:
        return key
    client = request.client.host if request.client else "unknown"
    wait = state.auth_failures.wait(client)
    if wait > 0:
        raise ApiError(429, "too many invalid API keys from this address; wait before trying again",
                       details={"retry_after_s": round(wait, 2)}, headers={"Retry-After": retry_after_header(wait)})
    key = state.keys.verify(presented)
    if key is None:
        state.auth_failures.record_failure(client)
    return key
