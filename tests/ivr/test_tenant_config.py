"""Tenant configuration as code: export, import (all or nothing), the published schema."""
import copy
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ecti.ivr.models import Flow, Schedule
from ecti.tenant_config import ConfigRefused, document_schema, dumps, export_document, import_document
from ecti.tenancy.models import Tenant

ROOT = Path(__file__).resolve().parents[2]


def messages(refused: ConfigRefused, localizer) -> dict[str, str]:
    from ecti.ivr.validation import translate

    return {path: translate(localizer, message) for path, message in refused.errors}


@pytest.fixture
def localizer():
    from pyramid.i18n import make_localizer

    from ecti.i18n import locale_dirs

    return make_localizer("ja", locale_dirs())


@pytest.fixture
def exported(company, scoped, ivr_config, tenant):
    return export_document(scoped, ivr_config.registry, scoped.get(Tenant, tenant.id))


def test_the_export_names_references_instead_of_ids(exported):
    flow = exported["flows"][0]
    nodes = {n["id"]: n for n in flow["nodes"]}
    assert nodes["hours"]["settings"] == {"schedule": "平日"}
    assert nodes["message"]["settings"]["box"] == "代表伝言"
    assert nodes["sales"]["settings"] == {"queue": "営業"}
    assert exported["numbers"] == [{"e164": "+815012340000", "label": "代表", "flow": "代表番号"}]
    assert exported["closures"] == [{"name": "年末年始休業", "start": "2025-12-29", "end": "2026-01-03"}]
    assert "password" not in dumps(exported)


def test_export_import_export_round_trips_unchanged(exported, scoped, ivr_config):
    import_document(scoped, ivr_config.registry, copy.deepcopy(exported))
    scoped.commit()
    tenant = scoped.scalar(select(Tenant).where(Tenant.slug == "ivr"))
    assert dumps(export_document(scoped, ivr_config.registry, tenant)) == dumps(exported)


def test_an_import_creates_a_new_company_with_everything(exported, scoped, ivr_config, db):
    doc = copy.deepcopy(exported)
    doc["tenant"] = {"slug": "copy", "name": "コピー株式会社", "time_zone": "Asia/Tokyo", "locale": "ja"}
    doc["numbers"] = [{"e164": "+815012349999", "label": "新番号", "flow": "代表番号"}]
    doc["users"] = [{"email": "boss@copy.example", "display_name": "社長", "role": "admin", "is_active": True, "locale": None}]
    # (Queues travel in the file too: tests/ivr/test_tenant_config_queues.py; here the node is replaced.)
    doc["flows"][0]["nodes"][3] = {"id": "sales", "type": "announcement", "settings": {"prompt": {"text": "営業部です"}}, "next": {"next": "message"}}
    tenant = import_document(scoped, ivr_config.registry, doc)
    scoped.commit()
    again = export_document(scoped, ivr_config.registry, tenant)
    assert again["flows"] == doc["flows"] and again["numbers"] == doc["numbers"]
    assert again["users"] == doc["users"]


def bad_file(exported):
    doc = copy.deepcopy(exported)
    nodes = doc["flows"][0]["nodes"]
    nodes.append({"id": "weather", "type": "weather", "settings": {}})  # unknown node type
    nodes[2]["next"]["fallback"] = "nowhere"  # dangling edge
    nodes[2]["settings"]["retries"] = "three"  # wrong type
    nodes[3]["settings"]["queue"] = "経理"  # unknown queue
    doc["schedules"][0]["weekly"]["mon"] = [["18:00", "09:00"]]
    return doc


def test_a_bad_file_lists_every_error_with_its_path_and_changes_nothing(exported, scoped, ivr_config, localizer, db):
    before = db.scalar(select(Schedule.weekly))
    with pytest.raises(ConfigRefused) as refused:
        import_document(scoped, ivr_config.registry, bad_file(exported))
    found = messages(refused.value, localizer)
    assert found == {
        "$.flows[0].nodes[2].settings.retries": "整数を指定してください。",
        "$.schedules[0].weekly.mon": "時間帯 18:00–09:00 は終了が開始より前です（深夜 0 時をまたぐ場合は 2 つに分けてください）。",
        "$.flows[0].nodes[3].settings.queue": "キュー「経理」はありません。",
        "$.flows[0].nodes[8].type": "ノード weather：ノードの種類 weather はありません（利用できるもの：announcement, forward, hangup, menu, queue, schedule, voicemail）。",
        "$.flows[0].nodes[2].next.fallback": "ノード menu：出口 fallback の行き先 nowhere というノードはありません。",
        "$.flows[0].nodes[8]": "ノード weather：開始ノードからこのノードに到達できません。",
    }
    scoped.rollback()
    db.commit()
    assert db.scalar(select(Schedule.weekly)) == before


def test_the_command_line_refuses_a_bad_file_and_round_trips_a_good_one(exported, tmp_path, ivr_config, database_url, db):
    import os
    import subprocess
    import sys

    ini = tmp_path / "t.ini"
    ini.write_text(
        f"[app:main]\nuse = egg:ecti\nsqlalchemy.url = {database_url}\necti.secret_key = s\necti.environment = test\n"
        "ecti.encryption_keys = 3u-7rsDwGOVvQ2Tx4GW4kKZ4BcBdJXq3zqvOb4mBq9M=\necti.jobs.backend = memory\n"
        f"ecti.media_dir = {tmp_path / 'media'}\n",
        encoding="utf-8",
    )
    ecti = str(Path(sys.executable).with_name("ecti"))

    def run(*args):
        return subprocess.run([ecti, "-c", str(ini), "tenant", *args], capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"})

    first = run("export", "--tenant", "ivr", "-o", str(tmp_path / "a.json"))
    assert first.returncode == 0, first.stderr
    document = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert document["flows"] == exported["flows"]
    assert run("import", str(tmp_path / "a.json")).returncode == 0
    assert run("export", "--tenant", "ivr", "-o", str(tmp_path / "b.json")).returncode == 0
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == (tmp_path / "b.json").read_text(encoding="utf-8")

    broken = copy.deepcopy(document)
    broken["flows"][0]["nodes"][1]["next"]["next"] = "nowhere"
    (tmp_path / "bad.json").write_text(json.dumps(broken), encoding="utf-8")
    refused = run("import", str(tmp_path / "bad.json"))
    assert refused.returncode != 0
    assert "$.flows[0].nodes[1].next.next: ノード welcome：出口 next の行き先 nowhere というノードはありません。" in refused.stderr
    assert "何も変更していません" in refused.stderr
    db.commit()
    assert db.scalar(select(func.count()).select_from(Flow)) == 1


def test_the_published_schema_is_the_one_the_application_checks_against(app):
    published = json.loads((ROOT / "docs" / "tenant-config.schema.json").read_text(encoding="utf-8"))
    assert published == document_schema(app.registry)
