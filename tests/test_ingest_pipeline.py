from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from indexing import Filters
from voc.ingest import runner
from voc.ingest.encoding import UnreadableFileError
from voc.service import Voc
from voc.settings import VocSettings

PHONE, ID_NUMBER, CARD, EMAIL = "13812345678", "11010519491231002X", "6222020200112345679", "li.lei@example.com"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def all_stored_bytes(settings: VocSettings) -> bytes:
    """Every byte in the store and the index, WAL files included."""
    blob = b""
    for path in settings.home.rglob("*"):
        if path.is_file():
            blob += path.read_bytes()
    return blob


def test_gbk_csv_ingests_and_is_searchable(service: Voc, tmp_path: Path) -> None:
    path = write(tmp_path / "reviews.csv", "id,text,platform,rating,time\n"
                 "r1,外卖送得太慢了，汤都洒了,美团,1,2026-09-01 12:00\n"
                 "r2,骑手态度很好，准时送达,饿了么,5,2026-09-02 12:00\n", "gbk")
    report = service.ingest(path, "review")
    assert report.summary() == {"accepted": 2, "duplicates": 0, "rejected": 0, "rejects_file": None}
    doc = service.store.get(next(iter(service.index.ids_for(service.build_query("汤")))))
    assert doc is not None and doc.text_original == "外卖送得太慢了，汤都洒了"
    assert doc.meta == {"rating": 1.0, "platform": "美团"} and doc.external_id == "r1"
    assert service.search("骑手").total == 1


def test_reingest_adds_nothing(service: Voc, tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "text,time\n很好,2026-09-01\n很好,2026-09-02\n很好,2026-09-01\n")
    first = service.ingest(path, "survey")
    assert (first.accepted, first.duplicates) == (2, 1)  # same text at another time is another answer
    second = service.ingest(path, "survey")
    assert (second.accepted, second.duplicates) == (0, 3)
    assert service.store.count() == 2 and service.index.count() == 2


def test_bad_rows_go_to_a_rejects_file_with_row_and_reason(service: Voc, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", "id,text,time,score\n"
                 "1,服务不错,2026-09-01,9\n"
                 "2,,2026-09-01,8\n"
                 "3,排队太久,昨天下午,3\n"
                 f"4,电话{PHONE}一直打不通,2026-09-01,五星\n"
                 "5,环境干净,2026-09-03,10\n")
    report = service.ingest(path, "survey")
    assert (report.accepted, report.rejected) == (2, 3)
    lines = [json.loads(line) for line in Path(report.rejects_file or "").read_text(encoding="utf-8").splitlines()]
    assert [(r["row"], r["reason"]) for r in lines] == [
        (3, "no text"), (4, "unparsable time '昨天下午'"), (5, "score must be a number, got '五星'")]
    assert PHONE not in json.dumps(lines, ensure_ascii=False)  # the rejects file is masked too


def test_pii_never_reaches_the_store_or_the_index(service: Voc, tmp_path: Path) -> None:
    path = write(tmp_path / "calls.jsonl", json.dumps({
        "call_id": "C1", "contact": f"备用邮箱 {EMAIL}",
        "turns": [{"role": "agent", "text": "请提供身份证号"},
                  {"role": "customer", "text": f"身份证{ID_NUMBER}，手机{PHONE}，卡号{CARD}，邮箱{EMAIL}"}],
    }, ensure_ascii=False) + "\n")
    service.ingest(path, "hotline")
    doc = service.store.get(service.index.ids_for(service.build_query(None))[0])
    assert doc is not None and {span.type for span in doc.pii} >= {"phone", "id_number", "bank_card", "email"}
    service.close()
    blob = all_stored_bytes(service.settings)
    for secret in (PHONE, ID_NUMBER, CARD, EMAIL, "13812345678"[:7] + "5678"):
        assert secret.encode() not in blob


def test_unreadable_file_stores_nothing(service: Voc, tmp_path: Path) -> None:
    good = "id,text\n" + "".join(f"{i},第{i}条评论内容比较长一些用来填充采样窗口\n" for i in range(6_000))
    path = tmp_path / "broken.csv"
    path.write_bytes(good.encode("utf-8") + b"999,\xff\xfe\xfa broken tail\n")
    with pytest.raises(UnreadableFileError, match="not valid utf-8"):
        service.ingest(path, "review")
    assert service.store.count() == 0 and service.index.count() == 0
    assert not list((service.settings.home / "rejects").glob("*")) if (service.settings.home / "rejects").exists() \
        else True
    with pytest.raises(UnreadableFileError, match="--text-col 'body'"):
        from voc.ingest.records import ColumnOptions

        service.ingest(write(tmp_path / "ok.csv", "id,text\n1,好\n"), "review", options=ColumnOptions(text_col="body"))


def test_near_duplicates_are_flagged_not_deleted(service: Voc, tmp_path: Path) -> None:
    spam = "限时特惠全场五折快来抢购，关注店铺领取优惠券，好评返现二十元，联系客服获取链接"
    path = write(tmp_path / "r.csv", f"id,text\na,{spam}\nb,{spam.replace('二十', '三十')}\nc,物流很快，包装完好无损\n")
    report = service.ingest(path, "review")
    assert report.accepted == 3 and report.near_duplicates == 1
    ids = service.index.ids_for(service.build_query("返现"))
    docs = {service.store.get(i).external_id: service.store.get(i) for i in ids}  # type: ignore[union-attr]
    assert docs["b"].near_duplicate_of == docs["a"].id and docs["a"].near_duplicate_of is None
    assert service.search(None, filters=Filters(exclude_near_duplicates=True)).total == 2


def test_hotline_keeps_the_call_and_indexes_customer_turns(service: Voc, tmp_path: Path) -> None:
    call = '"坐席：您好，这里是客服中心\n客户：我家宽带又断网了\n坐席：帮您报修"'
    path = write(tmp_path / "calls.csv", f"call_id,transcript,time\nT1,{call},2026-10-08 09:00\n")
    service.ingest(path, "hotline")
    assert service.search("客服中心").total == 0  # agent turns are kept but not analysed
    hit = service.search("断网").hits[0]
    doc = service.store.get(hit.id)
    assert doc is not None and [t.role for t in doc.turns] == ["agent", "customer", "agent"]
    assert doc.created_at == datetime(2026, 10, 8, 9, 0)


def test_parallel_ingest_matches_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "".join(f"{i},第{i}号门店的店员态度{'很好' if i % 2 else '很差'}，电话{PHONE}\n" for i in range(1500))
    path = write(tmp_path / "many.csv", "id,text\n" + rows)
    results = {}
    for workers in (1, 2):
        monkeypatch.setattr(runner, "PARALLEL_MIN_BYTES", 0)
        voc = Voc(VocSettings(home=tmp_path / f"home{workers}", workers=workers, batch_size=200))
        report = voc.ingest(path, "review")
        results[workers] = (report.accepted, sorted(voc.index.ids_for(voc.build_query("很差"))))
        voc.close()
    assert results[1] == results[2] and results[1][0] == 1500 and len(results[1][1]) == 750


def test_interrupted_indexing_resumes(service: Voc, tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "text\n" + "".join(f"评论{i}号，质量不错\n" for i in range(50)))
    service.ingest(path, "review")
    ids = service.index.ids_for(service.build_query(None))
    service.index.delete(ids[:20])
    service.store.mark_indexed(ids[:20], indexed=False)  # as if the run died before these were indexed
    assert service.index.count() == 30
    report = service.sync_index()
    assert (report.indexed, report.pending) == (20, 0)
    assert service.index.count() == service.store.count() == 50
    rebuilt = service.rebuild_index()
    assert rebuilt.indexed == 50 and service.index.count() == 50


def test_tags_by_ids_and_by_query(service: Voc, tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "id,text\n1,快递柜超时收费\n2,快递很快\n3,客服态度差\n")
    service.ingest(path, "review")
    assert service.tag("快递", query=service.build_query("快递")) == 2
    one = service.search("客服").hits[0].id
    assert service.tag("跟进", ids=[one, "unknown-id"]) == 1
    assert service.tag_counts() == {"快递": 2, "跟进": 1}
    assert service.search(None, filters=Filters(tags=["快递"])).total == 2
    assert service.tag("快递", query=service.build_query("柜"), remove=True) <= 1
    assert service.store.get(one).tags == ["跟进"]  # type: ignore[union-attr]
    with sqlite3.connect(service.settings.home / "voc.sqlite") as conn:
        assert conn.execute("select count(*) from tags").fetchone()[0] == sum(service.tag_counts().values())


def test_near_duplicates_found_across_ingest_runs(service: Voc, tmp_path: Path) -> None:
    spam = "大家别来了，物流信息四天没更新了，快递柜超过十二小时就收费，凭什么，跟他们说了一句道歉都没有"
    service.ingest(write(tmp_path / "a.csv", f"id,text\na1,{spam}\n"), "review")
    report = service.ingest(write(tmp_path / "b.csv", f"id,text\nb1,{spam.replace('四天', '五天')}\n"), "review")
    assert report.near_duplicates == 1


def test_near_duplicate_memory_is_bounded() -> None:
    from voc.dedupe import NearDuplicateDetector
    from voc.documents import Document
    from voc.text import minhash

    detector = NearDuplicateDetector(0.7, 90, capacity=4)
    docs = [Document(f"d{i}", "review", text, text) for i, text in enumerate(
        ["第一家店的外卖送得很慢汤也洒了", "物业费年年涨服务没有变好", "宽带天天断网客服不处理",
         "信用卡年费莫名其妙被扣了", "快递柜超时收费太不合理了", "门店店员态度很好下次还来"])]
    for doc in docs:
        doc.minhash = minhash.to_bytes(minhash.signature(doc.text))  # type: ignore[arg-type]
    flagged, rows = detector.assign(docs, datetime(2026, 11, 1))
    assert flagged == 0 and len(rows) == 6
    assert len(detector._signatures) <= 4 and "d5" in detector._signatures  # the newest are kept
    copy = Document("c", "review", docs[5].text + "!", docs[5].text)
    copy.minhash = minhash.to_bytes(minhash.signature(copy.text))  # type: ignore[arg-type]
    assert detector.assign([copy], datetime(2026, 11, 1))[0] == 1 and copy.near_duplicate_of == "d5"
