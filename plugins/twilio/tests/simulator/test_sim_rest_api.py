"""The REST API through the real twilio SDK: auth, errors, numbers, apps, keys, paging."""
import email.utils

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from ecti_twilio.rest import make_client


def test_wrong_credentials_get_20003(sim, number, account):
    bad = make_client(account.sid, "wrong-token", sim.api_base)
    with pytest.raises(TwilioRestException) as error:
        bad.incoming_phone_numbers(number.sid).fetch()
    assert (error.value.status, error.value.code) == (401, 20003)


def test_unknown_resources_get_20404_in_twilios_error_shape(sim, account, twilio_client):
    with pytest.raises(TwilioRestException) as error:
        twilio_client.calls("CA" + "0" * 32).fetch()
    assert (error.value.status, error.value.code) == (404, 20404)

    response = requests.get(f"{sim.api_base}/2010-04-01/Accounts/{account.sid}/Nothing.json",
                            auth=(account.sid, account.auth_token))
    body = response.json()
    assert response.status_code == 404
    assert set(body) == {"code", "message", "more_info", "status"}
    assert body["code"] == 20404 and body["status"] == 404
    assert body["more_info"] == "https://www.twilio.com/docs/errors/20404"


def test_incoming_phone_numbers(sim, webhooks, number, twilio_client):
    [listed] = twilio_client.incoming_phone_numbers.list()
    assert listed.sid == number.sid and listed.sid.startswith("PN")
    assert listed.phone_number == "+815012345678"
    assert listed.capabilities == {"fax": False, "mms": False, "sms": True, "voice": True}

    updated = twilio_client.incoming_phone_numbers(number.sid).update(
        voice_url=webhooks.url("/new-voice"), voice_method="GET",
        voice_fallback_url=webhooks.url("/fallback"), status_callback=webhooks.url("/status"),
        sms_url=webhooks.url("/new-sms"), friendly_name="代表番号")
    assert updated.voice_url == webhooks.url("/new-voice")
    assert updated.voice_method == "GET"
    assert updated.friendly_name == "代表番号"
    fetched = twilio_client.incoming_phone_numbers(number.sid).fetch()
    assert fetched.voice_fallback_url == webhooks.url("/fallback")
    assert fetched.status_callback == webhooks.url("/status")
    assert fetched.sms_url == webhooks.url("/new-sms")
    assert [n.sid for n in twilio_client.incoming_phone_numbers.list(
        phone_number="+815012345678")] == [number.sid]

    webhooks.route("/new-voice", "<Response><Say>new flow</Say></Response>")
    assert sim.dial("+819011112222", number.phone_number).said() == ["new flow"]
    assert webhooks.last("/new-voice").method == "GET"


def test_applications_crud(sim, twilio_client):
    app = twilio_client.applications.create(friendly_name="Softphone",
                                            voice_url="https://ecti.example/voice/client")
    assert app.sid.startswith("AP")
    assert twilio_client.applications(app.sid).fetch().voice_url == \
        "https://ecti.example/voice/client"
    twilio_client.applications(app.sid).update(voice_url="https://ecti.example/v2")
    assert twilio_client.applications(app.sid).fetch().voice_url == "https://ecti.example/v2"
    assert [a.sid for a in twilio_client.applications.list(friendly_name="Softphone")] == [
        app.sid]
    assert twilio_client.applications(app.sid).delete() is True
    assert twilio_client.applications.list() == []


def test_api_keys_authenticate_and_show_their_secret_once(sim, account, twilio_client):
    key = twilio_client.new_keys.create(friendly_name="ecti")
    assert key.sid.startswith("SK") and key.secret

    with_key = make_client(account.sid, key.secret, sim.api_base, username=key.sid)
    assert with_key.calls.list() == []
    [listed] = twilio_client.keys.list()
    assert listed.sid == key.sid and listed.friendly_name == "ecti"
    raw = requests.get(f"{sim.api_base}/2010-04-01/Accounts/{account.sid}/Keys/{key.sid}.json",
                       auth=(account.sid, account.auth_token)).json()
    assert "secret" not in raw

    twilio_client.keys(key.sid).delete()
    with pytest.raises(TwilioRestException) as error:
        with_key.api.v2010.accounts(account.sid).fetch()
    assert error.value.code == 20003


def test_lists_are_paged_like_twilio(sim, account, twilio_client):
    for n in range(5):
        twilio_client.applications.create(friendly_name=f"app {n}")

    assert len(twilio_client.applications.list(page_size=2)) == 5  # the SDK follows pages
    page = requests.get(f"{sim.api_base}/2010-04-01/Accounts/{account.sid}/Applications.json",
                        params={"PageSize": 2, "Page": 1},
                        auth=(account.sid, account.auth_token)).json()
    assert len(page["applications"]) == 2
    assert (page["page"], page["page_size"], page["start"], page["end"]) == (1, 2, 2, 3)
    assert page["next_page_uri"].endswith("Applications.json?PageSize=2&Page=2")
    assert page["previous_page_uri"].endswith("PageSize=2&Page=0")
    assert page["uri"].startswith(f"/2010-04-01/Accounts/{account.sid}/Applications.json")


def test_resources_carry_rfc2822_dates_and_relative_uris(sim, webhooks, number, account,
                                                         twilio_client):
    call = twilio_client.calls.create(to="+81312345678", from_=number.phone_number,
                                      twiml="<Response/>")
    raw = requests.get(f"{sim.api_base}/2010-04-01/Accounts/{account.sid}/Calls/{call.sid}.json",
                       auth=(account.sid, account.auth_token)).json()
    assert email.utils.parsedate_to_datetime(raw["date_created"]).utcoffset().total_seconds() \
        == 0
    assert raw["date_created"].endswith("+0000")
    assert raw["uri"] == f"/2010-04-01/Accounts/{account.sid}/Calls/{call.sid}.json"
    assert raw["subresource_uris"]["recordings"] == \
        f"/2010-04-01/Accounts/{account.sid}/Calls/{call.sid}/Recordings.json"
    assert twilio_client.api.v2010.accounts(account.sid).fetch().friendly_name == "Test tenant"


def test_debugger_errors_are_listed_as_notifications(sim, webhooks, number, account,
                                                     twilio_client):
    webhooks.route("/voice", "<Response><Say>broken")
    call = sim.dial("+819011112222", number.phone_number)
    [notification] = twilio_client.notifications.list()
    assert notification.error_code == "12100"
    assert notification.call_sid == call.sid
