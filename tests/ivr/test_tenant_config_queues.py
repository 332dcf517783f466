"""Tenant configuration files with the ACD's queues and the prompt library: everything referred
to by name (prompts, queues, flows, voicemail boxes, members by e-mail), so a file configures
another company the same way; unknown names are errors at their JSON path; all or nothing."""
import copy

import pytest
from sqlalchemy import select

from ecti.acd.models import Queue, QueueMember
from ecti.ivr.models import Flow
from ecti.prompts.models import Prompt, PromptKind
from ecti.tenant_config import ConfigRefused, dumps, export_document, import_document
from ecti.tenancy.models import Tenant

from .test_tenant_config import localizer, messages  # noqa: F401  (fixture and helper)


@pytest.fixture
def center(company, scoped, ivr_config, tenant, make_user):
    """The company plus a library prompt used by a flow and a queue, queue members, and two
    queues overflowing into a flow's node and into each other."""
    agent = make_user(tenant, role="agent", email="sato@ivr.example", name="佐藤")
    lead = make_user(tenant, role="supervisor", email="suzuki@ivr.example", name="鈴木")
    greeting = Prompt(tenant_id=tenant.id, kind=PromptKind.tts, name="受付あいさつ", text="お電話ありがとうございます。", provider="twilio")
    music = Prompt(tenant_id=tenant.id, kind=PromptKind.audio, name="保留音", original_filename="hold.wav", storage_key="t/hold.wav")
    scoped.add_all([greeting, music])
    scoped.flush()
    flow = scoped.get(Flow, company.flow.id)
    nodes = copy.deepcopy(flow.nodes)
    nodes[1]["settings"]["prompt"] = {"prompt_id": greeting.id}
    flow.nodes = nodes
    sales = scoped.get(Queue, company.queue.id)
    sales.strategy = "round_robin"
    sales.hold_audio = {"prompt_id": music.id}
    sales.overflow = {"kind": "flow", "target": f"{flow.id}:message"}
    sales.service_level_seconds = 30
    scoped.add_all([
        QueueMember(tenant_id=tenant.id, queue_id=sales.id, user_id=agent.id, level=1, position=1),
        QueueMember(tenant_id=tenant.id, queue_id=sales.id, user_id=lead.id, level=2, position=2),
    ])
    support = Queue(tenant_id=tenant.id, name="サポート", overflow={"kind": "queue", "target": str(sales.id)}, hold_audio={"text": "少々お待ちください。"},
                    max_wait_seconds=300)
    scoped.add(support)
    scoped.commit()
    return export_document(scoped, ivr_config.registry, scoped.get(Tenant, tenant.id))


def test_queues_and_prompts_are_exported_by_name(center):
    sales, support = center["queues"][1], center["queues"][0]
    assert sales["name"] == "営業" and support["name"] == "サポート"
    assert sales["strategy"] == "round_robin" and sales["service_level_seconds"] == 30
    assert sales["members"] == [{"email": "sato@ivr.example", "level": 1, "position": 1}, {"email": "suzuki@ivr.example", "level": 2, "position": 2}]
    assert sales["hold_audio"] == {"prompt": "保留音"}
    assert sales["overflow"] == {"kind": "flow", "target": "代表番号", "node": "message"}
    assert support["overflow"] == {"kind": "queue", "target": "営業"}
    assert support["max_wait_seconds"] == 300 and support["hold_audio"] == {"text": "少々お待ちください。"}
    assert center["flows"][0]["nodes"][1]["settings"]["prompt"] == {"prompt": "受付あいさつ"}
    assert center["prompts"] == [
        {"name": "保留音", "kind": "audio", "original_filename": "hold.wav"},
        {"name": "受付あいさつ", "kind": "tts", "text": "お電話ありがとうございます。", "provider": "twilio",
         "voice": {"voice": "", "speed": 1.0, "pitch": 0.0, "intonation": 1.0, "volume": 0.0, "emotion": "normal"}},
    ]
    assert '"prompt_id"' not in dumps(center) and '"queue": "営業"' in dumps(center)


def test_export_import_export_with_queues_is_unchanged(center, scoped, ivr_config):
    import_document(scoped, ivr_config.registry, copy.deepcopy(center))
    scoped.commit()
    tenant = scoped.scalar(select(Tenant).where(Tenant.slug == "ivr"))
    assert dumps(export_document(scoped, ivr_config.registry, tenant)) == dumps(center)


def test_the_file_configures_another_company_the_same_way(center, scoped, ivr_config, db, make_tenant):
    doc = copy.deepcopy(center)
    doc["tenant"] = {"slug": "copy", "name": "コピー株式会社", "time_zone": "Asia/Tokyo", "locale": "ja"}
    doc["numbers"] = [{"e164": "+815012349999", "label": "新番号", "flow": "代表番号"}]
    doc["users"] = [{**u, "email": u["email"].replace("ivr.example", "copy.example")} for u in doc["users"] if u["email"].endswith("ivr.example")]
    for queue in doc["queues"]:
        for member in queue["members"]:
            member["email"] = member["email"].replace("ivr.example", "copy.example")
    doc["prompts"] = [p for p in doc["prompts"] if p["kind"] == "tts"]  # uploaded audio must be uploaded there first…
    with pytest.raises(ConfigRefused) as refused:
        import_document(scoped, ivr_config.registry, doc)
    paths = [path for path, _m in refused.value.errors]
    assert paths[0] == "$.queues[1].hold_audio.prompt"  # then what needed that queue: the flow's queue node, the overflow
    assert {"$.flows[0].nodes[3].settings.queue", "$.queues[0].overflow.target"} <= set(paths)
    scoped.rollback()
    copy_tenant = make_tenant(slug="copy", name="コピー株式会社")
    db.add(Prompt(tenant_id=copy_tenant.id, kind=PromptKind.audio, name="保留音", original_filename="hold.wav", storage_key="copy/hold.wav"))
    db.commit()
    doc["prompts"] = copy.deepcopy(center["prompts"])  # …then the file names it
    tenant = import_document(scoped, ivr_config.registry, doc)
    scoped.commit()
    again = export_document(scoped, ivr_config.registry, tenant)
    for section in ("prompts", "queues", "flows", "schedules", "voicemail_boxes", "numbers", "users"):
        assert again[section] == doc[section], section
    # The ids behind the names are the new company's own.
    ours = {q.name: q for q in db.scalars(select(Queue).where(Queue.tenant_id == tenant.id))}
    theirs = {q.name: q for q in db.scalars(select(Queue).where(Queue.tenant_id != tenant.id))}
    assert ours["サポート"].overflow == {"kind": "queue", "target": str(ours["営業"].id)} and ours["営業"].id != theirs["営業"].id


def test_unknown_names_are_errors_at_their_path_and_nothing_changes(center, scoped, ivr_config, localizer, db):  # noqa: F811
    doc = copy.deepcopy(center)
    sales = doc["queues"][1]
    sales["members"].append({"email": "nobody@ivr.example", "level": 1})
    sales["hold_audio"] = {"prompt": "存在しない音"}
    doc["queues"][0]["overflow"] = {"kind": "queue", "target": "経理"}
    doc["queues"].append({"name": "夜間", "overflow": {"kind": "flow", "target": "夜間フロー"}})
    doc["flows"][0]["nodes"][1]["settings"]["prompt"] = {"prompt": "ようこそ"}
    doc["prompts"].append({"name": "新しい音声", "kind": "audio"})
    before = dumps(center)
    with pytest.raises(ConfigRefused) as refused:
        import_document(scoped, ivr_config.registry, doc)
    found = messages(refused.value, localizer)
    assert found.items() >= {
        "$.prompts[2].name": "プロンプト 新しい音声 はアップロードした音声で、設定ファイルでは運べません。先にプロンプトライブラリにこの名前でアップロードしてください。",
        "$.queues[1].hold_audio.prompt": "プロンプトライブラリに「存在しない音」という名前のプロンプトはありません。",
        "$.queues[1].members[2].email": "メールアドレス nobody@ivr.example のユーザーはいません。",
        "$.queues[0].overflow.target": "キュー「経理」はありません。",
        "$.queues[2].overflow.target": "フロー「夜間フロー」はありません。",
        "$.flows[0].nodes[1].settings.prompt.prompt": "プロンプトライブラリに「ようこそ」という名前のプロンプトはありません。",
    }.items()
    scoped.rollback()
    db.commit()
    tenant = db.scalar(select(Tenant).where(Tenant.slug == "ivr"))
    from ecti.db import set_tenant_scope

    set_tenant_scope(scoped, tenant.id)
    assert dumps(export_document(scoped, ivr_config.registry, tenant)) == before
    assert db.scalar(select(Queue).where(Queue.name == "夜間")) is None


def test_a_queue_option_out_of_range_is_reported_with_its_path(center, scoped, ivr_config, localizer):  # noqa: F811
    doc = copy.deepcopy(center)
    doc["queues"][1]["ring_timeout"] = 500
    with pytest.raises(ConfigRefused) as refused:
        import_document(scoped, ivr_config.registry, doc)
    found = messages(refused.value, localizer)
    assert list(found) == ["$.queues[1].ring_timeout"] and "5 以上 120 以下" in found["$.queues[1].ring_timeout"]


def test_the_wallboard_thresholds_travel_with_the_queue_and_are_checked(center, scoped, ivr_config, localizer):  # noqa: F811
    sales = center["queues"][1]
    assert (sales["wallboard_waiting_amber"], sales["wallboard_wait_red"], sales["wallboard_service_level_red"]) == (3, 60, 60)  # defaults
    doc = copy.deepcopy(center)
    doc["queues"][1].update(wallboard_waiting_amber=5, wallboard_waiting_red=8)
    import_document(scoped, ivr_config.registry, doc)
    scoped.commit()
    assert (scoped.scalar(select(Queue).where(Queue.name == "営業")).wallboard_waiting_red) == 8
    doc["queues"][1]["wallboard_service_level_red"] = 95  # red above amber (80) for a service level
    with pytest.raises(ConfigRefused) as refused:
        import_document(scoped, ivr_config.registry, doc)
    found = messages(refused.value, localizer)
    assert list(found) == ["$.queues[1].wallboard_service_level_red"]
    assert "赤のしきい値は黄色のしきい値以下にしてください (黄色 80、赤 95)" in found["$.queues[1].wallboard_service_level_red"]
