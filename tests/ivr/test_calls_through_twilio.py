"""The IVR's webhooks posted directly (signed as Twilio signs), with a fixed clock.

test_calls_through_the_simulator.py runs whole calls through the simulator; these post exactly
what Twilio would to the URLs ECTI's TwiML names, to check the TwiML's details and what a
repeated or missing callback does.
"""
import pytest
from sqlalchemy import select

from ecti.ivr.models import ActiveForward, VoicemailMessage

WEDNESDAY_10 = "2025-06-11T10:00"
GREETING = "発信音のあとにメッセージをどうぞ。"


def test_in_hours_the_menu_leads_to_the_queue(company, call, clock, path, events):
    clock.set(WEDNESDAY_10)
    caller = call()
    twiml = caller.dial()
    assert twiml.said() == ["お電話ありがとうございます。", "営業は1を、サポートは2を、伝言は3を押してください。"]
    assert twiml.find("Gather").get("numDigits") == "1"
    twiml = caller.press("1")
    assert twiml.find("Enqueue").text == f"queue-{company.queue.id}"
    assert path(caller) == [("hours", "open"), ("welcome", "next"), ("menu", "prompt"), ("menu", "1"), ("sales", "queued")]
    assert [kind for kind, *_ in events(caller)] == ["started", "flow_step", "flow_step", "flow_step", "flow_step", "entered_queue", "flow_step"]


def test_in_hours_the_menu_forwards_to_the_external_number(company, call, clock, path, db):
    clock.set(WEDNESDAY_10)
    caller = call("+819011112222")
    caller.dial()
    twiml = caller.press("2")
    dial = twiml.find("Dial")
    assert [n.text for n in dial.iter("Number")] == ["+81312345678"]
    assert dial.get("timeout") == "20" and dial.get("callerId") == "+819011112222"
    twiml = caller.dial_ends("completed", duration=95)
    assert twiml.verbs() == ["Hangup"]
    assert path(caller)[-2:] == [("support", "ringing"), ("support", "answered")]
    assert db.scalars(select(ActiveForward)).all() == []  # the number is free again


def test_in_hours_the_menu_leads_to_voicemail(company, call, clock, path, events, db):
    clock.set(WEDNESDAY_10)
    caller = call("+819033334444")
    caller.dial()
    twiml = caller.press("3")
    assert twiml.said() == [GREETING] and twiml.find("Record") is not None
    twiml = caller.leave_message("RE" + "1" * 32, duration=14)
    assert twiml.said() == ["メッセージをお預かりしました。ありがとうございました。"]
    assert path(caller)[-2:] == [("message", "recording"), ("message", "recorded")]
    assert ("voicemail", None, None) in events(caller)
    message = db.scalars(select(VoicemailMessage)).one()
    assert (message.from_number, message.duration_seconds, message.box_id) == ("+819033334444", 14, company.box.id)
    caller.repeat()  # Twilio repeats the callback
    db.commit()
    assert len(db.scalars(select(VoicemailMessage)).all()) == 1


def test_after_hours_an_announcement_then_voicemail(company, call, clock, path):
    clock.set("2025-06-11T18:00")  # the range 13:00-18:00 has just ended
    caller = call()
    twiml = caller.dial()
    assert twiml.said() == ["本日の営業は終了しました。", GREETING]
    assert path(caller) == [("hours", "closed"), ("after_hours", "next"), ("message", "recording")]


def test_the_lunch_break_and_the_weekend_are_closed(company, call, clock, path):
    for moment in ("2025-06-11T12:30", "2025-06-14T10:00"):  # lunch; a Saturday
        clock.set(moment)
        caller = call()
        caller.dial()
        assert path(caller)[0] == ("hours", "closed")


@pytest.mark.parametrize("moment", ["2025-01-13T10:00", "2025-02-24T10:00", "2025-12-30T10:00", "2026-01-02T11:00"])
def test_national_holidays_substitute_holidays_and_company_closures_take_the_holiday_branch(company, call, clock, path, events, moment):
    # 成人の日; 振替休日 for 天皇誕生日; the year-end closure (a Tuesday and a Friday).
    clock.set(moment)
    caller = call()
    twiml = caller.dial()
    assert twiml.said() == ["本日は休業日です。", GREETING]
    assert path(caller) == [("hours", "holiday"), ("holiday", "next"), ("message", "recording")]


def test_an_invalid_key_and_silence_are_retried_then_the_fallback(company, call, clock, path):
    clock.set(WEDNESDAY_10)
    caller = call()
    caller.dial()
    twiml = caller.press("9")
    assert twiml.said() == ["番号が正しくありません。", "営業は1を、サポートは2を、伝言は3を押してください。"]
    twiml = caller.stay_silent()
    assert twiml.said() == ["番号が押されませんでした。", "営業は1を、サポートは2を、伝言は3を押してください。"]
    twiml = caller.press("*")
    assert twiml.said() == ["番号が正しくありません。", GREETING]  # retries used up: the fallback
    assert path(caller)[2:] == [
        ("menu", "prompt"), ("menu", "invalid"), ("menu", "no_input"), ("menu", "fallback"), ("message", "recording"),
    ]


def test_a_busy_external_destination_disconnects_the_second_caller(company, call, clock, path, events, db):
    clock.set(WEDNESDAY_10)
    first, second = call("+819011110001"), call("+819011110002")
    first.dial()
    assert first.press("2").find("Dial") is not None
    second.dial()
    twiml = second.press("2")
    assert twiml.find("Dial") is None
    assert twiml.said() == ["ただいま回線が混み合っています。後ほどおかけ直しください。"] and twiml.verbs()[-1] == "Hangup"
    assert path(second)[-1] == ("support", "in_use")
    # When the first call's forward ends, the next caller is put through again.
    first.dial_ends("completed", duration=60)
    third = call("+819011110003")
    third.dial()
    assert third.press("2").find("Dial") is not None


def test_a_forward_is_freed_when_the_caller_hangs_up_even_without_a_dial_result(company, call, clock, db):
    clock.set(WEDNESDAY_10)
    first = call("+819011110001")
    first.dial()
    first.press("2")
    first.hang_up()
    db.commit()
    assert db.scalars(select(ActiveForward)).all() == []


def test_no_answer_at_the_external_number_goes_to_voicemail(company, call, clock, path):
    clock.set(WEDNESDAY_10)
    caller = call()
    caller.dial()
    caller.press("2")
    twiml = caller.dial_ends("no-answer")
    assert twiml.said() == [GREETING]
    assert path(caller)[-3:] == [("support", "ringing"), ("support", "no-answer"), ("message", "recording")]


def test_a_caller_who_says_nothing_after_the_tone_is_hung_up_on_without_a_message(company, call, clock, path, db):
    clock.set("2025-06-11T20:00")
    caller = call()
    caller.dial()
    twiml = caller.say_nothing_after_the_tone()
    assert twiml.verbs() == ["Hangup"]
    assert path(caller)[-1] == ("message", "no_message")
    assert db.scalars(select(VoicemailMessage)).all() == []


def test_a_number_without_a_flow_says_it_is_not_set_up(tenant, call, events):
    caller = call()
    twiml = caller.dial()
    assert twiml.verbs() == ["Say", "Hangup"]
    assert events(caller)[-1] == ("refused", None, None)

