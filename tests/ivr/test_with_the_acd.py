"""The queue node with the real ACD (issue 6): the IVR hands the call to ``acd.enqueue``; a queue
with nobody logged in overflows back into a flow through ``ivr.node``."""
import webtest
from sqlalchemy import select

from ecti.acd.models import Queue
from ecti.config import configure
from ecti.ivr.services import create_box, save_flow
from ecti.telephony.models import PhoneNumber


def test_a_queue_without_agents_overflows_into_the_night_flow(app_settings, engine, scoped, call, clock, path, events):
    config = configure(dict(app_settings), engine=engine)
    config.registry["ecti.clock"] = clock
    queue = Queue(name="営業", overflow={}, hold_audio={})
    scoped.add(queue)
    scoped.flush()
    box = create_box(scoped, "夜間")
    night = save_flow(scoped, config.registry, {"name": "夜間", "start": "vm", "nodes": [
        {"id": "vm", "type": "voicemail", "settings": {"box": box.id, "greeting": {"text": "ただいま担当者が不在です。"}}},
    ]})
    queue.overflow = {"kind": "flow", "target": str(night.id)}
    main = save_flow(scoped, config.registry, {"name": "代表", "start": "q", "nodes": [{"id": "q", "type": "queue", "settings": {"queue": queue.id}}]})
    scoped.scalar(select(PhoneNumber)).flow_id = main.id
    scoped.commit()

    caller = call()
    caller.app = webtest.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
    twiml = caller.dial()
    assert twiml.said() == ["ただいま担当者が不在です。"] and twiml.find("Record") is not None
    # The queue node's step is recorded when the hand-off returns: after the overflow's steps.
    assert path(caller) == [("vm", "recording"), ("q", "queued")]
    assert [kind for kind, _node, _branch in events(caller)][1:4] == ["overflowed", "flow_step", "flow_step"]


def test_queue_nodes_name_real_queues(app_settings, engine, scoped):
    from ecti.ivr.services import FlowInvalid

    config = configure(dict(app_settings), engine=engine)
    try:
        save_flow(scoped, config.registry, {"name": "x", "start": "q", "nodes": [{"id": "q", "type": "queue", "settings": {"queue": 999}}]})
    except FlowInvalid as invalid:
        assert [(p.path, p.message.mapping["id"]) for p in invalid.problems] == [("nodes[0].settings.queue", 999)]
    else:
        raise AssertionError("an unknown queue was accepted")
