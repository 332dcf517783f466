"""The issue's end-to-end calls through the local Twilio simulator, with a fixed clock: ECTI
answers the simulator's signed webhooks over HTTP and the simulator plays the TwiML to a
scripted caller and external phone."""
import pytest
from sqlalchemy import select

from ecti.ivr.models import ActiveForward, VoicemailMessage

NUMBER = "+815012340000"  # the tenant fixture's number
ACCOUNT_SID = "AC" + "1f" * 16
MENU = "営業は1を、サポートは2を、伝言は3を押してください。"
GREETING = "発信音のあとにメッセージをどうぞ。"
SUPPORT = "+81312345678"


def test_in_hours_each_menu_branch(phone_line, company, clock, path, events, db):
    clock.set("2025-06-11T10:00")
    queued = phone_line.dial(from_="+819011110001", to=NUMBER)
    assert queued.said() == ["お電話ありがとうございます。", MENU]
    queued.press("1")
    assert path(queued)[-1] == ("sales", "queued")
    assert any(e["event"] == "enqueued" for e in queued.events)

    phone_line.phone(SUPPORT).behaviour = "answer"
    forwarded = phone_line.dial(from_="+819011110002", to=NUMBER)
    forwarded.press("2")
    assert forwarded.peer is not None and forwarded.peer.to == SUPPORT
    forwarded.hangup()
    assert path(forwarded)[-2:] == [("support", "ringing"), ("support", "answered")]

    message = phone_line.dial(from_="+819011110003", to=NUMBER)
    message.press("3")
    assert message.said()[-1] == GREETING
    phone_line.advance(9)
    message.silence()  # the caller stops talking: the recording ends
    assert path(message)[-1] == ("message", "recorded")
    db.commit()
    [left] = db.scalars(select(VoicemailMessage)).all()
    assert (left.from_number, left.duration_seconds, left.recording_id.startswith("RE")) == ("+819011110003", 9, True)
    assert ("voicemail", None, None) in events(message)


def test_after_hours_an_announcement_then_voicemail(phone_line, company, clock, path):
    clock.set("2025-06-11T19:30")
    call = phone_line.dial(from_="+819011110004", to=NUMBER)
    assert call.said() == ["本日の営業は終了しました。", GREETING]
    assert path(call) == [("hours", "closed"), ("after_hours", "next"), ("message", "recording")]


@pytest.mark.parametrize("moment", ["2025-11-24T10:00", "2025-12-29T09:30"])  # 振替休日; the year-end closure
def test_a_national_holiday_and_a_company_closure_take_the_holiday_branch(phone_line, company, clock, path, moment):
    clock.set(moment)
    call = phone_line.dial(from_="+819011110005", to=NUMBER)
    assert call.said() == ["本日は休業日です。", GREETING]
    assert path(call)[0] == ("hours", "holiday")


def test_an_invalid_key_and_silence_are_retried_then_the_fallback(phone_line, company, clock, path):
    clock.set("2025-06-11T10:00")
    call = phone_line.dial(from_="+819011110006", to=NUMBER)
    call.press("9")
    call.silence()
    call.press("*")
    assert call.said() == [
        "お電話ありがとうございます。", MENU, "番号が正しくありません。", MENU, "番号が押されませんでした。", MENU, "番号が正しくありません。", GREETING,
    ]
    assert [branch for node, branch in path(call) if node == "menu"] == ["prompt", "invalid", "no_input", "fallback"]


def test_a_busy_external_destination_disconnects_the_second_caller(phone_line, company, clock, path, db):
    clock.set("2025-06-11T10:00")
    phone_line.phone(SUPPORT).behaviour = "answer"
    first = phone_line.dial(from_="+819011110007", to=NUMBER)
    first.press("2")
    assert first.peer is not None
    second = phone_line.dial(from_="+819011110008", to=NUMBER)
    second.press("2")
    assert second.said()[-1] == "ただいま回線が混み合っています。後ほどおかけ直しください。"
    assert second.status == "completed" and second.peer is None
    assert path(second)[-1] == ("support", "in_use")
    first.hangup()
    db.commit()
    assert db.scalars(select(ActiveForward)).all() == []
    third = phone_line.dial(from_="+819011110009", to=NUMBER)
    third.press("2")
    assert third.peer is not None


def test_no_answer_at_the_external_number_goes_to_voicemail(phone_line, company, clock, path):
    clock.set("2025-06-11T10:00")
    phone_line.phone(SUPPORT).behaviour = "no-answer"
    call = phone_line.dial(from_="+819011110010", to=NUMBER)
    call.press("2")
    phone_line.advance(21)  # the forward's 20-second ring timeout passes
    assert call.said()[-1] == GREETING
    assert path(call)[-3:] == [("support", "ringing"), ("support", "no-answer"), ("message", "recording")]
    assert phone_line.errors_for(ACCOUNT_SID) == []
