"""<Enqueue>, its wait loop in virtual time, <Dial><Queue>, Queues and Members over REST."""
import pytest
from twilio.base.exceptions import TwilioRestException

CALLER = "+819011112222"


@pytest.fixture
def queued_call(sim, webhooks, number):
    webhooks.route("/voice", '<Response><Enqueue waitUrl="/wait" action="/queue-done">'
                             'support</Enqueue><Say>after the queue</Say></Response>')
    # one pass of the wait document lasts 1 s (Say) + 10 s (Pause)
    webhooks.route("/wait", '<Response><Say>そのままお待ちください</Say><Pause length="10"/>'
                            '</Response>')
    return sim.dial(CALLER, number.phone_number)


def test_wait_url_is_requested_with_queue_parameters_and_loops_in_virtual_time(
        sim, webhooks, queued_call):
    [first] = webhooks.requests_to("/wait")
    assert first.signature_ok
    assert first.params["QueuePosition"] == "1"
    assert first.params["CurrentQueueSize"] == "1"
    assert first.params["QueueTime"] == "0"
    assert first.params["AvgQueueTime"] == "0"
    assert first.params["QueueSid"].startswith("QU")

    sim.advance(10)
    assert len(webhooks.requests_to("/wait")) == 1
    sim.advance(1)
    assert len(webhooks.requests_to("/wait")) == 2
    sim.advance(22)
    waits = webhooks.requests_to("/wait")
    assert [hit.params["QueueTime"] for hit in waits] == ["0", "11", "22", "33"]
    assert queued_call.said().count("そのままお待ちください") == 4


def test_agent_dequeues_with_dial_queue_and_the_caller_gets_bridged_result(
        sim, webhooks, number, account, twilio_client, queued_call):
    device = sim.client(account.sid, "agent-1")
    webhooks.route("/whisper", "<Response><Say>担当者におつなぎします</Say></Response>")
    webhooks.route("/queue-done", "<Response><Say>ご利用ありがとうございました</Say></Response>")
    sim.advance(30)
    [queue] = twilio_client.queues.list()
    assert queue.friendly_name == "support"
    assert queue.current_size == 1
    [member] = twilio_client.queues(queue.sid).members.list()
    assert member.call_sid == queued_call.sid
    assert member.position == 1
    assert member.wait_time == 30

    twilio_client.calls.create(
        to="client:agent-1", from_=number.phone_number,
        twiml=f'<Response><Dial><Queue url="{webhooks.url("/whisper")}">support</Queue></Dial>'
              '</Response>')
    sim.settle()
    agent = device.answer()

    assert queued_call.peer == agent
    assert "担当者におつなぎします" in queued_call.said()
    assert twilio_client.queues(queue.sid).fetch().current_size == 0
    waits_before = len(webhooks.requests_to("/wait"))
    sim.advance(60)
    assert len(webhooks.requests_to("/wait")) == waits_before  # no hold loop while bridged

    device.hangup()
    done = webhooks.last("/queue-done")
    assert done.params["QueueResult"] == "bridged"
    assert done.params["QueueTime"] == "30"
    assert done.params["QueueSid"] == queue.sid
    assert queued_call.said()[-1] == "ご利用ありがとうございました"
    assert twilio_client.queues(queue.sid).fetch().average_wait_time == 30


def test_dequeue_front_member_over_rest(sim, webhooks, twilio_client, queued_call):
    webhooks.route("/dequeued", "<Response><Say>voicemail please</Say></Response>")
    [queue] = twilio_client.queues.list()
    sim.advance(5)

    member = twilio_client.queues(queue.sid).members("Front").update(
        url=webhooks.url("/dequeued"), method="POST")
    assert member.call_sid == queued_call.sid
    sim.settle()

    assert queued_call.said()[-1] == "voicemail please"
    done = webhooks.last("/queue-done")
    assert done.params["QueueResult"] == "redirected"
    assert done.params["QueueTime"] == "5"
    with pytest.raises(TwilioRestException) as error:
        twilio_client.queues(queue.sid).members("Front").fetch()
    assert error.value.code == 20404


def test_leave_in_the_wait_document(sim, webhooks, number):
    webhooks.route("/voice", '<Response><Enqueue waitUrl="/wait" action="/queue-done">sales'
                             '</Enqueue></Response>')
    webhooks.route("/wait", lambda hit: (
        "<Response><Leave/></Response>" if int(hit.params["QueueTime"]) >= 20
        else '<Response><Pause length="10"/></Response>'))
    webhooks.route("/queue-done", lambda hit: f"<Response><Say>{hit.params['QueueResult']}"
                                              "</Say></Response>")
    call = sim.dial(CALLER, number.phone_number)
    sim.advance(25)
    assert call.said() == ["leave"]
    assert webhooks.last("/queue-done").params["QueueTime"] == "20"


def test_gather_in_the_wait_document(sim, webhooks, number):
    webhooks.route("/voice", '<Response><Enqueue waitUrl="/wait" action="/queue-done">sales'
                             '</Enqueue></Response>')
    webhooks.route("/wait", '<Response><Gather numDigits="1" action="/wait-key" timeout="5">'
                            '<Say>1 で留守番電話</Say></Gather></Response>')
    webhooks.route("/wait-key", "<Response><Leave/></Response>")
    call = sim.dial(CALLER, number.phone_number)
    call.press("1")
    assert webhooks.last("/wait-key").params["Digits"] == "1"
    assert webhooks.last("/queue-done").params["QueueResult"] == "leave"


def test_caller_hanging_up_in_the_queue(sim, webhooks, twilio_client, queued_call):
    sim.advance(7)
    queued_call.hangup()
    done = webhooks.last("/queue-done")
    assert done.params["QueueResult"] == "hangup"
    assert done.params["QueueTime"] == "7"
    assert twilio_client.queues.list()[0].current_size == 0


def test_dial_queue_waits_for_the_next_caller(sim, webhooks, number, account):
    device = sim.client(account.sid, "agent-1")
    device_app = sim.add_application(account.sid, webhooks.url("/agent"))
    device.application_sid = device_app.sid
    webhooks.route("/agent", '<Response><Dial timeout="60"><Queue>support</Queue></Dial>'
                             '</Response>')
    sim.get_or_create_queue(account.sid, "support")
    agent = device.connect()
    assert agent.peer is None
    webhooks.route("/voice", "<Response><Enqueue>support</Enqueue></Response>")
    caller = sim.dial(CALLER, number.phone_number)
    assert caller.peer == agent


def test_queue_crud_and_full_queue(sim, webhooks, number, twilio_client):
    queue = twilio_client.queues.create(friendly_name="vip", max_size=1)
    assert queue.sid.startswith("QU") and queue.max_size == 1
    assert twilio_client.queues(queue.sid).update(max_size=2).max_size == 2
    twilio_client.queues(queue.sid).update(max_size=1)
    with pytest.raises(TwilioRestException) as error:
        twilio_client.queues.create(friendly_name="vip")
    assert error.value.code == 22003

    webhooks.route("/voice", '<Response><Enqueue action="/queue-done">vip</Enqueue></Response>')
    webhooks.route("/queue-done", "<Response><Say>full</Say></Response>")
    first = sim.dial(CALLER, number.phone_number)
    second = sim.dial("+819033334444", number.phone_number)
    assert webhooks.last("/queue-done").params["QueueResult"] == "queue-full"
    assert second.said() == ["full"]
    first.hangup()
    assert twilio_client.queues(queue.sid).delete() is True
    assert twilio_client.queues.list() == []
