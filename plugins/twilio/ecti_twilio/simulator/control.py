"""The HTTP control API (``/sim/v1/…``): the scripting API over JSON, for browsers and
other processes (the demo page, integrators' test suites in other languages).

Every action waits until the simulation settles and answers with the resulting state.
Responses carry permissive CORS headers so a page served from another origin can drive it.
See SIMULATOR.md for the endpoint list.
"""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from webob import Request, Response

from .engine import SimulatorError

if TYPE_CHECKING:  # pragma: no cover
    from .core import Simulator

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "600",
}


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _reply(data, status: int = 200) -> Response:
    response = Response(body=json.dumps(data, default=str).encode(), status=status,
                        content_type="application/json", charset="utf-8")
    response.headers.update(CORS_HEADERS)
    return response


class ControlApi:
    """WSGI app for ``/sim/v1``."""

    def __init__(self, sim: "Simulator"):
        self.sim = sim
        p = "^/sim/v1"
        device = rf"{p}/clients/(?P<account>AC\w+)/(?P<identity>[^/]+)"
        routes = [
            (rf"{p}/state$", "GET", self.state),
            (rf"{p}/accounts$", "POST", self.add_account),
            (rf"{p}/accounts/(?P<account>AC\w+)/numbers$", "POST", self.add_number),
            (rf"{p}/calls$", "POST", self.dial),
            (rf"{p}/calls/(?P<sid>CA\w+)$", "GET", self.get_call),
            (rf"{p}/calls/(?P<sid>CA\w+)/(?P<action>press|silence|hangup|answer|decline)$",
             "POST", self.call_action),
            (rf"{p}/clients$", "POST", self.register),
            (rf"{device}$", "GET", self.get_device),
            (rf"{device}$", "DELETE", self.unregister),
            (rf"{device}/(?P<action>answer|decline|hangup|digits|connect)$", "POST",
             self.device_action),
            (rf"{p}/phones/(?P<number>[^/]+)$", "GET", self.get_phone),
            (rf"{p}/phones/(?P<number>[^/]+)$", "PUT", self.configure_phone),
            (rf"{p}/phones/(?P<number>[^/]+)/(?P<action>answer|decline|hangup|press)$", "POST",
             self.phone_action),
            (rf"{p}/sms$", "POST", self.send_sms),
            (rf"{p}/advance$", "POST", self.advance),
            (rf"{p}/settle$", "POST", self.settle),
            (rf"{p}/errors$", "GET", self.errors),
            (rf"{p}/webhooks$", "GET", self.webhooks),
        ]
        self.routes = [(re.compile(pattern), method, handler)
                       for pattern, method, handler in routes]

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except ControlError as error:
            response = _reply({"error": error.message}, error.status)
        except (SimulatorError, ValueError, KeyError, TypeError) as error:
            response = _reply({"error": str(error)}, 400)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path_matched = False
        for pattern, method, handler in self.routes:
            match = pattern.match(request.path_info)
            if match is None:
                continue
            path_matched = True
            if request.method == "OPTIONS":
                return _reply({}, 200)
            if request.method == method:
                body = request.json_body if request.body else {}
                if not isinstance(body, dict):
                    raise ControlError(400, "the request body must be a JSON object")
                return _reply(handler(body, **match.groupdict()))
        if path_matched:
            raise ControlError(405, f"{request.method} is not allowed on {request.path_info}")
        raise ControlError(404, f"no control endpoint {request.path_info}")

    # --- state -------------------------------------------------------------------------------
    def state(self, body):
        sim = self.sim
        with sim.lock:
            return {
                "now": sim.now,
                "clock": sim.clock.now().isoformat(),
                "accounts": [{"sid": a.sid, "friendly_name": a.friendly_name,
                              "numbers": [n.phone_number for n in sim.account_numbers(a.sid)]}
                             for a in sim.accounts.values()],
                "calls": [{"sid": c.sid, "from": c.from_, "to": c.to, "status": c.status,
                           "direction": c.direction, "parent_call_sid": c.parent_call_sid}
                          for c in sim.calls.values()],
                "queues": [{"sid": q.sid, "friendly_name": q.friendly_name,
                            "members": [m.call.sid for m in q.members]}
                           for q in sim.queues.values()],
                "conferences": [{"sid": c.sid, "friendly_name": c.friendly_name,
                                 "status": c.status,
                                 "participants": [p.call.sid for p in c.participants]}
                                for c in sim.conferences.values()],
                "clients": [{"account_sid": key[0], "identity": key[1], "devices": len(devices)}
                            for key, devices in sim.devices.items() if devices],
            }

    def add_account(self, body):
        account = self.sim.add_account(body["sid"], body["auth_token"],
                                       body.get("friendly_name", ""))
        return {"sid": account.sid}

    def add_number(self, body, account):
        config = {k: v for k, v in body.items()
                  if k not in ("phone_number", "voice", "sms", "friendly_name")}
        number = self.sim.add_number(account, body["phone_number"], body.get("voice", True),
                                     body.get("sms", False), body.get("friendly_name", ""),
                                     **config)
        return number.to_json()

    # --- calls -------------------------------------------------------------------------------
    def dial(self, body):
        return self.sim.dial(body["from"], body["to"]).as_dict()

    def get_call(self, body, sid):
        return self.sim.call(sid).as_dict()

    def call_action(self, body, sid, action):
        call = self.sim.call(sid)
        if action == "press":
            call.press(str(body["digits"]))
        else:
            getattr(call, action)()
        return call.as_dict()

    # --- clients -----------------------------------------------------------------------------
    def _device(self, account, identity):
        devices = self.sim.devices.get((account, identity))
        if not devices:
            raise ControlError(404, f"client {identity} is not registered")
        return devices[-1]

    def register(self, body):
        if body.get("token"):
            device = self.sim.client_from_token(body["token"])
        else:
            device = self.sim.client(body["account_sid"], body["identity"],
                                     body.get("application_sid"))
        return device.as_dict()

    def get_device(self, body, account, identity):
        return self._device(account, identity).as_dict()

    def unregister(self, body, account, identity):
        device = self._device(account, identity)
        device.unregister()
        return device.as_dict()

    def device_action(self, body, account, identity, action):
        device = self._device(account, identity)
        if action == "digits":
            device.send_digits(str(body["digits"]))
            return device.as_dict()
        if action == "connect":
            return device.connect(body.get("params", {})).as_dict()
        return getattr(device, action)().as_dict()

    # --- phones ------------------------------------------------------------------------------
    def get_phone(self, body, number):
        return self.sim.phone(number).as_dict()

    def configure_phone(self, body, number):
        phone = self.sim.phone(number)
        if "behaviour" in body:
            phone.behaviour = body["behaviour"]
        if "sms_behaviour" in body:
            phone.sms_behaviour = body["sms_behaviour"]
        return phone.as_dict()

    def phone_action(self, body, number, action):
        phone = self.sim.phone(number)
        if action == "press":
            phone.press(str(body["digits"]))
            return phone.as_dict()
        return getattr(phone, action)().as_dict()

    # --- messages, time, logs ------------------------------------------------------------------
    def send_sms(self, body):
        message = self.sim.send_sms(body["from"], body["to"], body["body"])
        return message.to_json()

    def advance(self, body):
        self.sim.advance(float(body["seconds"]))
        return {"now": self.sim.now}

    def settle(self, body):
        self.sim.settle(float(body.get("timeout", 5)))
        return {"now": self.sim.now}

    def errors(self, body, **_):
        return {"errors": self.sim.errors}

    def webhooks(self, body, **_):
        return {"webhooks": self.sim.webhooks}
