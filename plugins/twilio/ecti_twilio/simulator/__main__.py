"""``python -m ecti_twilio.simulator``: run the simulator as a server (for ``make run``).

    python -m ecti_twilio.simulator --host 127.0.0.1 --port 4010 --seed seed.json

The seed file (JSON) creates accounts with their numbers, TwiML Apps, API keys and phones::

    {"accounts": [{"sid": "AC…", "auth_token": "…", "friendly_name": "Demo",
                   "numbers": [{"phone_number": "+815012345678", "voice": true, "sms": false,
                                "voice_url": "http://127.0.0.1:6543/twilio/voice"}],
                   "applications": [{"sid": "AP…", "friendly_name": "Softphone",
                                     "voice_url": "http://127.0.0.1:6543/twilio/client"}],
                   "keys": [{"sid": "SK…", "secret": "…", "friendly_name": "tokens"}]}],
     "phones": [{"number": "+81312345678", "behaviour": "answer"}]}
"""
from __future__ import annotations

import argparse
import json
import logging
import sys

from .core import Simulator
from .server import SimulatorServer, make_app


def load_seed(sim: Simulator, seed: dict) -> None:
    """Create what a seed document describes (see the module docstring for its format)."""
    for account in seed.get("accounts", []):
        sim.add_account(account["sid"], account["auth_token"], account.get("friendly_name", ""))
        for number in account.get("numbers", []):
            number = dict(number)
            sim.add_number(account["sid"], number.pop("phone_number"),
                           number.pop("voice", True), number.pop("sms", False),
                           number.pop("friendly_name", ""), **number)
        for app in account.get("applications", []):
            sim.add_application(account["sid"], app.get("voice_url", ""),
                                app.get("friendly_name", ""), app.get("voice_method", "POST"),
                                sid=app.get("sid"))
        for key in account.get("keys", []):
            sim.add_key(account["sid"], key.get("friendly_name", ""), sid=key.get("sid"),
                        secret=key.get("secret"))
    for phone in seed.get("phones", []):
        target = sim.phone(phone["number"])
        target.behaviour = phone.get("behaviour", "answer")
        target.sms_behaviour = phone.get("sms_behaviour", "deliver")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecti_twilio.simulator",
                                     description="Local Twilio simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4010)
    parser.add_argument("--seed", help="JSON file with accounts, numbers, apps, keys, phones")
    parser.add_argument("--public-base-url",
                        help="URL the application reaches this server at "
                             "(default: http://HOST:PORT)")
    parser.add_argument("--webhook-timeout", type=float, default=15.0)
    parser.add_argument("--rest-latency", type=float, default=0.0,
                        help="seconds every REST request waits before its answer (a slow carrier)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sim = Simulator(args.public_base_url or f"http://{args.host}:{args.port}",
                    webhook_timeout=args.webhook_timeout)
    sim.rest_latency = args.rest_latency
    if args.seed:
        with open(args.seed, encoding="utf-8") as seed_file:
            load_seed(sim, json.load(seed_file))
    server = SimulatorServer(make_app(sim), args.host, args.port)
    logging.getLogger("ecti_twilio.simulator").info("Twilio simulator listening on %s",
                                                     server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        sim.engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
