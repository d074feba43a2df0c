"""The organisation tree: reading it (YAML, JSON, XLSX), bad files rejected with the reason, versions and
audit through `voc org import`, the tree walked up for escalation, scopes resolved from it, and scoped
keys stored in a store made before keys had a scope."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from indexing import Filters
from voc.cli.main import app
from voc.scopes import UNASSIGNED, OrgFileError, Scope, dump_tree, parse_tree, read_tree

TREE = {"name": "连锁", "root": {"name": "总部", "kind": "head_office", "children": [
    {"name": "华东大区", "id": "east", "children": [
        {"name": "上海区", "children": [{"name": "上海徐汇店"},
                                        {"name": "上海静安店", "values": "静安店、静安旗舰店"}]},
        {"name": "杭州西湖店"}]},
    {"name": "华北大区", "children": [{"name": "北京朝阳店"}]}]}}


def test_tree_walks_up_for_escalation_and_places_documents() -> None:
    tree = parse_tree(TREE)
    assert tree.find("east") is tree.find("华东大区")
    assert [n.name for n in tree.ancestors("上海徐汇店")] == ["上海区", "华东大区", "总部"]
    assert tree.next_level("上海徐汇店") == "上海区" and tree.next_level("east") == "总部"
    assert tree.next_level("总部") is None and tree.next_level(UNASSIGNED) == "总部"
    assert tree.node_for({"store": "静安旗舰店"}) == "上海静安店"
    assert tree.node_for({"store": "火星店"}) == tree.node_for({}) == UNASSIGNED
    assert tree.values_under("east") == {"上海徐汇店", "静安店", "静安旗舰店", "杭州西湖店"}


def test_scope_is_a_restriction_user_filters_only_narrow() -> None:
    tree = parse_tree(TREE)
    region = Scope.resolve(tree, ["华东大区"])
    assert region.filters() == Filters(store=sorted(tree.values_under("east")))
    assert region.narrow(Filters(store=["北京朝阳店"])) is None  # nothing, never "no filter"
    assert region.narrow(Filters(store=["北京朝阳店", "静安店"], channel=["app"])) == Filters(
        store=["静安店"], channel=["app"])
    assert region.allows_owner("上海区") and not region.allows_owner("华北大区")
    assert Scope.resolve(tree, ["总部"]).unrestricted and Scope.resolve(tree, []).unrestricted
    # fail closed: a node the tree no longer has, or no tree at all, sees nothing
    assert Scope.resolve(tree, ["已撤销店"]).filters() is None
    assert Scope.resolve(None, ["华东大区"]).narrow(Filters()) is None


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_export_and_import_round_trip(tmp_path: Path, fmt: str) -> None:
    tree = parse_tree(TREE)
    path = tmp_path / f"org.{fmt}"
    path.write_bytes(dump_tree(tree, fmt))
    again = read_tree(path)
    assert again.to_dict() == tree.to_dict()


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize(("content", "message"), [
    ("root: [", "invalid YAML at line 1"),
    ("", "the file is empty"),
    ("- {name: 总部}\n- {name: 分部}", "exactly one root"),
    ("root: {name: 总部, children: [{name: A店}, {name: B店, values: [A店]}]}", "listed under both"),
    ("root: {name: 总部, children: [{name: 华东}, {name: 华东}]}", "duplicate node id"),
    ("root: {name: 总部, children: [{kind: store}]}", "has no name"),
    ("field: city\nroot: {name: 总部, children: [{name: A店}]}", "cannot map documents by 'city'"),
    ("root: {name: 总部, children: [{name: unassigned}]}", "reserved"),
])
def test_bad_yaml_is_rejected_with_the_reason(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OrgFileError, match=message):
        read_tree(path)


def test_bad_files_of_other_kinds(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(OrgFileError, match="not UTF-8"):
        read_tree(tmp_path / "a.json")
    (tmp_path / "b.xlsx").write_text("not a zip")
    with pytest.raises(OrgFileError, match="not a readable XLSX"):
        read_tree(tmp_path / "b.xlsx")
    with pytest.raises(OrgFileError, match="unknown parent '华南'"):
        read_tree(_xlsx(tmp_path / "c.xlsx", [["name", "parent"], ["总部", None], ["广州店", "华南"]]))
    with pytest.raises(OrgFileError, match="not under the root"):
        read_tree(_xlsx(tmp_path / "d.xlsx", [["name", "parent"], ["总部", None], ["A", "B"], ["B", "A"]]))
    with pytest.raises(OrgFileError, match="cannot tell the format"):
        read_tree(tmp_path / "org.txt")
    tree = read_tree(_xlsx(tmp_path / "e.xlsx", [["名称", "上级", "门店"], ["总部", None, None],
                                                 ["华东", "总部", None], ["徐汇", "华东", "徐汇店|徐汇二店"]]))
    assert tree.values_under("华东") == {"徐汇店", "徐汇二店"}


def test_cli_import_records_versions_and_audit_and_keys_take_a_scope(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    good = tmp_path / "org.yaml"
    good.write_text(yaml.safe_dump(TREE, allow_unicode=True), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("root: {name: 总部, children: [{name: A}, {name: A}]}", encoding="utf-8")
    result = runner.invoke(app, ["org", "import", str(bad)])
    assert result.exit_code == 2 and "duplicate node id 'A'" in result.output
    assert runner.invoke(app, ["org", "import", str(good), "--note", "首版"]).exit_code == 0
    changed = json.loads(json.dumps(TREE))
    changed["root"]["children"][1]["children"].append({"name": "北京海淀店"})
    good.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["org", "import", str(good), "--json"])
    assert json.loads(result.stdout)["version"] == 2
    versions = json.loads(runner.invoke(app, ["org", "versions", "--json"]).stdout)
    assert [(v["version"], v["note"]) for v in versions] == [(1, "首版"), (2, "")]
    audit = json.loads(runner.invoke(app, ["org", "audit", "--json"]).stdout)
    assert audit[0]["detail"]["added"] == ["北京海淀店"] and audit[0]["version"] == 2
    assert len(audit[1]["detail"]["added"]) == 8
    assert "北京海淀店" in runner.invoke(app, ["org", "show"]).stdout
    out = tmp_path / "out.xlsx"
    assert runner.invoke(app, ["org", "export", str(out), "--version", "1"]).exit_code == 0
    assert "北京海淀店" not in read_tree(out).values_under("总部")
    # keys: the scope is checked against the tree, stored with the key and listed
    result = runner.invoke(app, ["keys", "create", "--role", "researcher", "--scope", "火星店"])
    assert result.exit_code == 2 and "火星店" in result.output
    result = runner.invoke(app, ["keys", "create", "--role", "researcher", "--scope", "华东大区",
                                 "--scope", "北京海淀店", "--json"])
    assert json.loads(result.stdout)["scope"] == ["east", "北京海淀店"]
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)
    assert listed[0]["scope"] == ["east", "北京海淀店"]
    assert "scope: east + 北京海淀店" in runner.invoke(app, ["keys", "list"]).stdout
    # a business line is taken as FIELD=VALUE beside the nodes; an unknown field is not a line
    result = runner.invoke(app, ["keys", "create", "--role", "researcher", "--scope", "华东大区",
                                 "--scope", "channel=外卖", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scope"] == ["east", "channel=外卖"]
    result = runner.invoke(app, ["keys", "create", "--role", "researcher", "--scope", "colour=red"])
    assert result.exit_code == 2 and "FIELD=VALUE" in result.output


def test_a_store_from_before_scoped_keys_gets_the_column(tmp_path: Path) -> None:
    from api.auth import KeyStore

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE api_keys (id VARCHAR(16) PRIMARY KEY, key_hash VARCHAR(64) NOT NULL, "
                          "role VARCHAR(16) NOT NULL, name VARCHAR(128), rate_limit_per_minute INTEGER, "
                          "created_at DATETIME NOT NULL, revoked_at DATETIME)"))
        conn.execute(text("INSERT INTO api_keys VALUES ('old1', 'x', 'admin', 'old', NULL, :at, NULL)"),
                     {"at": datetime(2026, 1, 1)})
    keys = KeyStore(engine)
    KeyStore(engine)  # a second worker opening the same store: nothing to add, no error
    assert [(k.id, k.scope) for k in keys.list()] == [("old1", ())]
    _, record = keys.create("researcher", scope=["华东大区"])
    assert {k.id: k.scope for k in keys.list()}[record.id] == ("华东大区",)


def test_overdue_tickets_escalate_up_the_organisation_tree(tmp_path: Path) -> None:
    from datetime import timedelta

    from voc.scopes import OrgStore
    from voc.service import Voc
    from voc.settings import VocSettings

    voc = Voc(VocSettings(home=tmp_path / "home", workers=1))
    try:
        OrgStore(voc.store.engine).save(parse_tree(TREE), author="test")
        ticket = voc.tickets.open("差评", "上海徐汇店", [], sla_hours=1, actor="test")
        later = ticket.due_at + timedelta(hours=1)
        voc.tickets.escalate(later)
        assert voc.tickets.get(ticket.id).owner == "上海区"
        voc.tickets.escalate(later + timedelta(days=3))
        assert voc.tickets.get(ticket.id).owner == "east"  # 华东大区's id
    finally:
        voc.close()
    # a chain of its own (VOC_TICKET_ESCALATION) wins over the tree
    chained = Voc(VocSettings(home=tmp_path / "home", workers=1, ticket_escalation='{"上海徐汇店": "总部"}'))
    try:
        ticket = chained.tickets.open("差评2", "上海徐汇店", [], sla_hours=1, actor="test")
        chained.tickets.escalate(ticket.due_at + timedelta(hours=1))
        assert chained.tickets.get(ticket.id).owner == "总部"
    finally:
        chained.close()
