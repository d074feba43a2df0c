"""Alerts: list and read them (read), acknowledge or close them (act: who works tickets); rules (read;
replace or add: admin); a scheduled run as a job and the webhook delivery log (admin). Webhook URLs and
secrets are settings, never accepted or returned here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from api.auth import ApiKey
from api.deps import ApiState, State, require
from api.errors import ApiError
from api.jobs import ProgressFn
from api.schemas import JobAccepted, Strict, job_accepted

router = APIRouter(tags=["alerts"])

AlertStatus = Literal["open", "acknowledged", "closed"]
DeliveryStatus = Literal["pending", "sending", "delivered", "failed"]
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_RULES = 200


class AlertOut(BaseModel):
    id: int
    rule: str
    kind: str = Field(description="low_score, escalation, rising or emerging_topic.")
    subject: str = Field(description="What fired: document:<id>, store:<name>, topic:<id> or indicator:<id>.")
    title: str
    status: AlertStatus
    fired_at: str
    document_ids: list[str] = Field(description="Evidence documents.")
    snippets: list[str] = Field(description="Masked text of the first evidence documents.")
    detail: dict[str, Any] = Field(description="The figures behind it (score, p-value, counts…).")
    ticket_id: str | None = Field(None, description="The ticket (工单) the alert opened, if its rule opens one.")


class AlertList(BaseModel):
    alerts: list[AlertOut]


class WebhookOut(BaseModel):
    name: str
    url: str = Field(description="Without its query string (robot tokens live there).")
    format: str
    secret: str | None = Field(None, description="*** when one is set.")


class RuleList(BaseModel):
    rules: list[dict[str, Any]] = Field(description="The rules as `voc alerts rules export --format json` writes them.")
    webhooks: list[WebhookOut] = Field(description="Configured webhooks a rule may name (secrets masked).")


class RulesIn(Strict):
    rules: list[dict[str, Any]] = Field(max_length=MAX_RULES, description="Rules as in a rule file (see the README).")


class DeliveryOut(BaseModel):
    id: int
    alert_id: int
    webhook: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    response_status: int | None
    created_at: str
    updated_at: str


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]


class RunIn(Strict):
    rules: list[str] = Field(default_factory=list, max_length=MAX_RULES, description="Only these rules (default: all).")


@router.get("/alerts", response_model=AlertList, summary="Alerts, newest first, with their evidence")
def list_alerts(state: State, _key: Annotated[ApiKey, Depends(require("read"))],
                status: Annotated[list[AlertStatus] | None, Query()] = None,
                rule: Annotated[str | None, Query(max_length=64)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict[str, Any]:
    return {"alerts": state.voc.alerts.alerts(status=status or (), rule=rule, limit=limit, offset=offset)}


@router.get("/alerts/rules", response_model=RuleList, summary="The alert rules and the webhooks they may use")
def get_rules(state: State, _key: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
    return _rules(state)


@router.put("/alerts/rules", response_model=RuleList, summary="Replace every alert rule",
            responses={422: {"description": "a rule is invalid (named with its field)"}})
def put_rules(body: RulesIn, state: State, _key: Annotated[ApiKey, Depends(require("admin"))]) -> dict[str, Any]:
    return _save(state, body, replace=True)


@router.post("/alerts/rules", response_model=RuleList, summary="Add or update alert rules by name",
             responses={422: {"description": "a rule is invalid (named with its field)"}})
def post_rules(body: RulesIn, state: State, _key: Annotated[ApiKey, Depends(require("admin"))]) -> dict[str, Any]:
    return _save(state, body, replace=False)


@router.post("/alerts/run", status_code=202, response_model=JobAccepted,
             summary="Evaluate the scheduled rules now (a job)",
             description="Rising and emerging-topic rules over the stored documents, then queued webhooks are sent. "
                         "The job's result lists the new alerts.")
def run_alerts(state: State, key: Annotated[ApiKey, Depends(require("admin"))],
               body: RunIn | None = None) -> Any:
    names = (body or RunIn()).rules
    total = sum(1 for rule in state.voc.alerts.rules() if rule.enabled and not rule.per_document)
    job_id = state.jobs.submit("alerts.run", key.id, lambda progress: _run(state, names, progress), total=total)
    return job_accepted(job_id)


@router.get("/alerts/deliveries", response_model=DeliveryList, summary="The webhook delivery log")
def list_deliveries(state: State, _key: Annotated[ApiKey, Depends(require("admin"))],
                    status: Annotated[list[DeliveryStatus] | None, Query()] = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    return {"deliveries": state.voc.alerts.deliveries(status=status or (), limit=limit)}


class StatusIn(Strict):
    status: AlertStatus


@router.post("/alerts/{alert_id}/status", response_model=AlertOut, summary="Acknowledge, close or reopen an alert",
             responses={404: {"description": "no such alert"}})
def set_status(alert_id: AlertId, body: StatusIn, state: State,
               _key: Annotated[ApiKey, Depends(require("act"))]) -> dict[str, Any]:
    found = state.voc.alerts.set_status(alert_id, body.status)
    if found is None:
        raise ApiError(404, f"no alert {alert_id}")
    return found


@router.get("/alerts/{alert_id}", response_model=AlertOut, summary="One alert",
            responses={404: {"description": "no such alert"}})
def get_alert(alert_id: AlertId, state: State, _key: Annotated[ApiKey, Depends(require("read"))]) -> dict[str, Any]:
    found = state.voc.alerts.store.get(alert_id)
    if found is None:
        raise ApiError(404, f"no alert {alert_id}")
    return found


def _rules(state: ApiState) -> dict[str, Any]:
    return {"rules": [rule.to_json() for rule in state.voc.alerts.rules()],
            "webhooks": state.voc.alerts.public_webhooks()}


def _save(state: ApiState, body: RulesIn, *, replace: bool) -> dict[str, Any]:
    from voc.alerts import RuleError, parse_rules

    try:
        state.voc.alerts.import_rules(parse_rules(body.rules, "body.rules"), replace=replace)
    except RuleError as exc:
        raise ApiError(422, str(exc), details=[{"field": "body.rules", "message": str(exc), "type": "value_error"}]
                       ) from None
    return _rules(state)


def _run(state: ApiState, names: list[str], progress: ProgressFn) -> dict[str, Any]:
    report = state.voc.alerts.run(rules=names, progress=progress)
    return {**report, "alerts": [alert["id"] for alert in report["alerts"] if alert]}
