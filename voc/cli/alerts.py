"""`voc alerts …`: alert rules (import, list, export), scheduled evaluation for cron, alerts, deliveries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from voc.cli import common
from voc.cli.common import JsonOpt, emit_json, fail, open_service, progress_bar

alerts_app = typer.Typer(help="Alert rules, evaluation (cron: `voc alerts run`), alerts and webhook deliveries.",
                         no_args_is_help=True)
rules_app = typer.Typer(help="Import, list and export alert rules (YAML or JSON).", no_args_is_help=True)
alerts_app.add_typer(rules_app, name="rules")

STATUSES = ("open", "acknowledged", "closed")
DELIVERY_STATUSES = ("pending", "sending", "delivered", "failed")


@rules_app.command("import")
def import_rules(
    path: Annotated[Path, typer.Argument(help="A YAML (.yaml/.yml) or JSON rule file.", exists=True, dir_okay=False)],
    replace: Annotated[bool, typer.Option("--replace", help="Remove the stored rules the file does not name.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Validate a rule file and store its rules (all or none; rules with the same name are updated)."""
    from voc.alerts import RuleError, load_rules

    service = open_service()
    try:
        rules = service.alerts.import_rules(load_rules(path), replace=replace)
    except (RuleError, ValueError) as exc:
        raise fail(str(exc)) from None
    finally:
        service.close()
    if as_json:
        emit_json([rule.to_json() for rule in rules])
    else:
        common.console.print(f"{len(rules)} rules stored: {', '.join(rule.name for rule in rules)}", highlight=False)


@rules_app.command("list")
def list_rules(as_json: JsonOpt = False) -> None:
    """The stored rules."""
    service = open_service()
    try:
        rules = service.alerts.rules()
    finally:
        service.close()
    if as_json:
        emit_json([rule.to_json() for rule in rules])
        return
    if not rules:
        common.console.print("no alert rules; import some with `voc alerts rules import FILE`")
    for rule in rules:
        scope = {k: v for k, v in rule.scope.model_dump().items() if v}
        extra = f" ticket→{rule.ticket.owner} ({rule.ticket.sla_hours:g} h)" if rule.ticket else ""
        common.console.print(f"[bold]{rule.name}[/] {rule.kind}{'' if rule.enabled else ' (disabled)'} "
                             f"scope={scope or 'all'} cooldown={rule.to_json()['cooldown']} "
                             f"webhooks={rule.webhooks or '-'}{extra}", highlight=False)


@rules_app.command("export")
def export_rules(
    fmt: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")] = None,
) -> None:
    """The stored rules as a file `voc alerts rules import` reads back."""
    if fmt not in ("yaml", "json"):
        raise fail("--format must be yaml or json")
    service = open_service()
    try:
        text = service.alerts.export_rules(fmt)
    finally:
        service.close()
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)


@alerts_app.command("run")
def run(
    rule: Annotated[list[str] | None, typer.Option("--rule", help="Only this rule (repeatable).")] = None,
    no_deliver: Annotated[bool, typer.Option("--no-deliver", help="Evaluate only; leave deliveries queued.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate the scheduled rules (rising, emerging_topic) and send queued webhooks. For cron."""
    service = open_service()
    try:
        count = sum(1 for r in service.alerts.rules() if r.enabled and not r.per_document)
        with progress_bar("alert rules", count, enabled=not as_json) as advance:
            report = service.alerts.run(rules=rule or (), progress=advance, deliver=not no_deliver)
    finally:
        service.close()
    if as_json:
        emit_json(report)
        return
    common.console.print(f"{len(report['rules'])} scheduled rules evaluated as of {report['at']}: "
                         f"{len(report['alerts'])} new alerts, {report['suppressed']} within their cooldown",
                         highlight=False)
    _print_alerts(report["alerts"])
    if report["deliveries"]:
        common.console.print(f"deliveries: {report['deliveries']}", highlight=False)


@alerts_app.command("list")
def list_alerts(
    status: Annotated[list[str] | None, typer.Option("--status", help="open, acknowledged or closed.")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule's alerts.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Alerts, newest first, with their evidence."""
    common.check_choices("--status", status, STATUSES)
    service = open_service()
    try:
        found = service.alerts.alerts(status=status or (), rule=rule, limit=limit)
    finally:
        service.close()
    if as_json:
        emit_json(found)
    elif not found:
        common.console.print("no alerts")
    else:
        _print_alerts(found)


@alerts_app.command("status")
def set_status(
    alert_id: Annotated[int, typer.Argument(help="The alert's number.", min=1)],
    status: Annotated[str, typer.Argument(help="open, acknowledged or closed.")],
    as_json: JsonOpt = False,
) -> None:
    """Acknowledge, close or reopen an alert (a closed alert still counts for its rule's cooldown)."""
    common.check_choices("STATUS", [status], STATUSES)
    service = open_service()
    try:
        alert = service.alerts.set_status(alert_id, status)
        if alert is None:
            common.err_console.print(f"no alert {alert_id}", highlight=False)
            raise typer.Exit(1)
    finally:
        service.close()
    if as_json:
        emit_json(alert)
    else:
        common.console.print(f"alert #{alert_id}: {status}", highlight=False)


@alerts_app.command("deliveries")
def deliveries(
    status: Annotated[list[str] | None, typer.Option("--status", help="pending, sending, delivered or failed.")] = None,
    retry: Annotated[bool, typer.Option("--retry", help="Send failed and pending deliveries again now.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The webhook delivery log: status, attempts, last error."""
    common.check_choices("--status", status, DELIVERY_STATUSES)
    service = open_service()
    try:
        sent = service.alerts.deliver_pending(retry_failed=True) if retry else None
        rows = service.alerts.deliveries(status=status or (), limit=limit)
    finally:
        service.close()
    if as_json:
        emit_json({"sent": sent, "deliveries": rows} if retry else rows)
        return
    if sent is not None:
        common.console.print(f"sent again: {sent}", highlight=False)
    for row in rows:
        error = f" ({row['last_error']})" if row["last_error"] else ""
        common.console.print(f"#{row['id']} alert {row['alert_id']} → {row['webhook']}: {row['status']} after "
                             f"{row['attempts']} attempts{error} {row['updated_at']}", highlight=False, markup=False)
    if not rows:
        common.console.print("no deliveries")


@alerts_app.command("test-webhook")
def test_webhook(name: Annotated[str, typer.Argument(help="A configured webhook's name.")],
                 as_json: JsonOpt = False) -> None:
    """Send a sample alert to one webhook (with retries) and say how it went."""
    service = open_service()
    try:
        result = service.alerts.test_webhook(name)
    except KeyError as exc:
        raise fail(str(exc.args[0])) from None
    finally:
        service.close()
    report: dict[str, Any] = {"webhook": name, "status": result.status, "attempts": result.attempts,
                              "last_error": result.last_error, "response_status": result.response_status}
    if as_json:
        emit_json(report)
    else:
        common.console.print(f"{name}: {result.status} after {result.attempts} attempts"
                             + (f" ({result.last_error})" if result.last_error else ""), highlight=False)
    if result.status != "delivered":
        raise typer.Exit(1)


def _print_alerts(found: list[dict[str, Any]]) -> None:
    for alert in found:
        ticket = f" 工单 {alert['ticket_id']}" if alert.get("ticket_id") else ""
        common.console.print(f"[bold]#{alert['id']}[/] {alert['fired_at'][:16]} \\[{alert['status']}] "
                             f"{escape(alert['rule'])}: {escape(alert['title'])}{ticket}", highlight=False)
        for snippet in alert["snippets"][:2]:
            common.console.print(f"    {snippet}", highlight=False, markup=False)
        if alert["document_ids"]:
            common.console.print(f"    evidence: {', '.join(alert['document_ids'][:5])}", highlight=False)
