"""The HTTP control API (/sim/v1), the seed format and the command line."""
import json
import os
import pathlib
import socket
import subprocess
import sys
import time

import requests

from ecti_twilio.simulator import Simulator
from ecti_twilio.simulator.__main__ import load_seed

CALLER = "+819011112222"
ACCOUNT = "AC" + "2" * 32


def test_a_browser_page_can_drive_a_call(sim, webhooks, number):
    base = sim.api_base + "/sim/v1"
    webhooks.route("/voice", '<Response><Gather numDigits="1" action="/menu"><Say>番号を</Say>'
                             '</Gather></Response>')
    webhooks.route("/menu", "<Response><Say>ok</Say></Response>")

    preflight = requests.options(base + "/calls", headers={
        "Origin": "http://localhost:6543", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]

    created = requests.post(base + "/calls", json={"from": CALLER, "to": number.phone_number})
    assert created.headers["Access-Control-Allow-Origin"] == "*"
    call = created.json()
    assert call["status"] == "in-progress"
    assert call["heard"][0]["text"] == "番号を"

    pressed = requests.post(f"{base}/calls/{call['sid']}/press", json={"digits": "3"}).json()
    assert pressed["status"] == "completed"
    assert pressed["heard"][-1]["text"] == "ok"
    assert requests.get(f"{base}/calls/{call['sid']}").json()["status"] == "completed"
    state = requests.get(base + "/state").json()
    assert state["calls"][0]["sid"] == call["sid"]


def test_softphones_phones_time_and_logs_over_http(sim, webhooks, number, account):
    base = sim.api_base + "/sim/v1"
    webhooks.route("/voice", '<Response><Dial action="/done" timeout="10"><Client>agent-1'
                             '</Client></Dial></Response>')
    device = requests.post(base + "/clients", json={"account_sid": account.sid,
                                                     "identity": "agent-1"}).json()
    assert device["registered"] is True
    requests.post(base + "/calls", json={"from": CALLER, "to": number.phone_number})
    ringing = requests.get(f"{base}/clients/{account.sid}/agent-1").json()["ringing"]
    assert ringing["to"] == "client:agent-1"
    answered = requests.post(f"{base}/clients/{account.sid}/agent-1/answer").json()
    assert answered["status"] == "in-progress"
    assert requests.post(base + "/advance", json={"seconds": 12}).json()["now"] == 12
    requests.post(f"{base}/clients/{account.sid}/agent-1/hangup")
    assert webhooks.last("/done").params["DialCallDuration"] == "12"

    phone = requests.put(base + "/phones/+81312345678", json={"behaviour": "busy"}).json()
    assert phone["behaviour"] == "busy"
    assert sim.phone("+81312345678").behaviour == "busy"
    kinds = {hook["kind"] for hook in requests.get(base + "/webhooks").json()["webhooks"]}
    assert {"voice", "action"} <= kinds
    assert requests.get(base + "/errors").json() == {"errors": []}

    missing = requests.post(f"{base}/clients/{account.sid}/nobody/answer")
    assert missing.status_code == 404
    bad = requests.put(base + "/phones/+81312345678", json={"behaviour": "dance"})
    assert bad.status_code == 400 and "behaviour" in bad.json()["error"]


def test_seed_creates_accounts_numbers_apps_keys_and_phones():
    sim = Simulator()
    try:
        load_seed(sim, {"accounts": [{
            "sid": ACCOUNT, "auth_token": "t", "friendly_name": "Demo",
            "numbers": [{"phone_number": "+815012340000", "sms": True,
                         "voice_url": "http://127.0.0.1:6543/voice"}],
            "applications": [{"sid": "AP" + "3" * 32, "voice_url": "http://x/client"}],
            "keys": [{"sid": "SK" + "4" * 32, "secret": "s3cret"}]}],
            "phones": [{"number": "+81312345678", "behaviour": "no-answer"}]})
        number = sim.number_by_phone("+815012340000")
        assert number.account_sid == ACCOUNT and number.sms and number.voice
        assert number.voice_url == "http://127.0.0.1:6543/voice"
        assert sim.applications["AP" + "3" * 32].voice_url == "http://x/client"
        assert sim.keys["SK" + "4" * 32].secret == "s3cret"
        assert sim.phone("+81312345678").behaviour == "no-answer"
    finally:
        sim.close()


def test_command_line_serves_the_seeded_simulator(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"accounts": [{"sid": ACCOUNT, "auth_token": "t",
                                              "numbers": [{"phone_number": "+815012340000"}]}]}))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    plugin_root = pathlib.Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(plugin_root), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "ecti_twilio.simulator", "--port", str(port), "--seed", str(seed)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                state = requests.get(f"http://127.0.0.1:{port}/sim/v1/state", timeout=1).json()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the simulator did not start"
                time.sleep(0.1)
        assert state["accounts"][0]["numbers"] == ["+815012340000"]
        listed = requests.get(
            f"http://127.0.0.1:{port}/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json",
            auth=(ACCOUNT, "t")).json()
        assert listed["incoming_phone_numbers"][0]["phone_number"] == "+815012340000"
    finally:
        process.terminate()
        process.wait(timeout=5)
