"""The simulator: accounts and their resources, call legs and the scripting API that tests
and demos use. Conferences, queues, recordings and messaging live in their own modules and
are mixed into :class:`Simulator`.

Public methods (``add_account``, ``dial``, ``client``, ``phone``, ``advance``, ``settle``,
``serve``…) may be called from any thread. The methods in the *engine-side* sections run on
the engine thread only (as commands, or from a call's TwiML program).
"""
from __future__ import annotations

import math
import re
import secrets
import threading
from typing import Callable, Optional

import jwt

from . import twiml
from .engine import SETTLE_CEILING, Engine, SimulatorError, VirtualClock
from .interpreter import (CallEnded, CallProgram, DocumentRequest, Event, Redirected,
                          QueueBridged)
from .models import (Account, ApiKey, Application, Call, Conference, Message, Notification,
                     Participant, PhoneNumber, Queue, Recording, new_sid, rfc2822)
from .conferences import ConferenceMixin
from .messaging import MessagingMixin
from .parties import Caller, CallHandle, Device, Phone
from .queues import QueueMixin
from .recordings import RecordingMixin
from .webhooks import HTTP_RETRIEVAL_FAILURE, WebhookRecord, WebhookResult, WebhookSender

#: Twilio's standard error texts for the codes the simulator reports.
INVALID_CALLER_ID = 13214
FORBIDDEN_NUMBER = 13225

# F-NUM-3/4: what Japanese 0120/0800 and 050 numbers cannot call.
_FREEPHONE_BLOCKED = ("0130", "0140", "0150", "0160", "0170", "0180", "0190", "0570", "0910",
                      "0990")
_IP_PHONE_BLOCKED = _FREEPHONE_BLOCKED + ("0120", "0800")


def _national_jp(number: str) -> Optional[str]:
    """A +81 number in national form (``+815012345678`` → ``05012345678``, ``+81177`` → ``177``)."""
    if not number.startswith("+81"):
        return None
    rest = number[3:]
    return rest if re.fullmatch(r"1\d\d", rest) else "0" + rest


class Bridge:
    """Two legs that hear each other."""

    def __init__(self, a: Call, b: Call, started_at: float):
        self.a, self.b, self.started_at = a, b, started_at

    def other(self, call: Call) -> Call:
        return self.b if call is self.a else self.a


def gather_action(twiml_body: str) -> Optional[str]:
    """The action URL of the first ``<Gather>`` in a TwiML document, if any."""
    for verb in twiml.parse(twiml_body, "").verbs:
        if verb.tag == "Gather":
            return verb.attrib.get("action")
    return None


class Simulator(ConferenceMixin, QueueMixin, RecordingMixin, MessagingMixin):
    """A local stand-in for Twilio: REST API, TwiML execution, signed webhooks, parties.

    :param public_base_url: the URL the simulator's REST API is reachable at, used in
        RecordingUrl and media URLs. Defaults to the URL of :meth:`serve`'s server.
    :param webhook_timeout: seconds to wait for a webhook's answer (Twilio: 15).
    :param play_seconds: how long a ``<Play>`` lasts in a queue's wait document.
    """

    def __init__(self, public_base_url: Optional[str] = None, *, webhook_timeout: float = 15.0,
                 play_seconds: int = 10):
        self.lock = threading.RLock()
        self.clock = VirtualClock()
        self.engine = Engine(self.clock)
        self.sender = WebhookSender(webhook_timeout)
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.play_seconds = play_seconds
        #: When true, recording media needs the account's credentials (Twilio's
        #: "enforce HTTP Auth on media URLs" setting).
        self.media_requires_auth = False
        #: Seconds every REST request waits before it is answered (a carrier far away or slow);
        #: the wait happens outside the simulator's lock, so requests overlap as on the real API.
        self.rest_latency = 0.0
        self.accounts: dict[str, Account] = {}
        self.numbers: dict[str, PhoneNumber] = {}
        self.applications: dict[str, Application] = {}
        self.keys: dict[str, ApiKey] = {}
        self.calls: dict[str, Call] = {}
        self.conferences: dict[str, Conference] = {}
        self.queues: dict[str, Queue] = {}
        self.recordings: dict[str, Recording] = {}
        self.messages: dict[str, Message] = {}
        self.notifications: dict[str, Notification] = {}
        self.phones: dict[str, Phone] = {}
        self.devices: dict[tuple, list] = {}
        self.webhook_records: list[WebhookRecord] = []
        #: Every REST request the application made (``rest_requests``).
        self.rest_log: list[dict] = []
        #: Call SIDs whose status callbacks are held back (``hold_callbacks``), with what was held.
        self._held_callbacks: dict[str, list[tuple]] = {}
        self._pending_participants: dict[str, Participant] = {}
        self._server = None

    # ================================================================ setup
    def add_account(self, sid: str, auth_token: str, friendly_name: str = "") -> Account:
        """Create an account (``AC…``) whose REST API accepts ``sid:auth_token``."""
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
            raise ValueError(f"{sid!r} is not an account SID (AC + 32 hex digits)")
        with self.lock:
            account = Account(sid, auth_token, friendly_name or sid, self.clock.now())
            self.accounts[sid] = account
            return account

    def add_number(self, account_sid: str, phone_number: str, voice: bool = True,
                   sms: bool = False, friendly_name: str = "", **config) -> PhoneNumber:
        """Give an account an IncomingPhoneNumber (``PN…``).

        ``config`` takes the number's settings in snake case: ``voice_url``, ``voice_method``,
        ``voice_fallback_url``, ``voice_application_sid``, ``status_callback``, ``sms_url``…
        """
        self._account(account_sid)
        if not re.fullmatch(r"\+[1-9]\d{6,14}", phone_number):
            raise ValueError(f"{phone_number!r} is not an E.164 number")
        with self.lock:
            now = self.clock.now()
            number = PhoneNumber(new_sid("PN"), account_sid, phone_number,
                                 friendly_name or phone_number, voice, sms, now, now)
            for key, value in config.items():
                if not hasattr(number, key):
                    raise TypeError(f"unknown phone number setting {key!r}")
                setattr(number, key, value)
            self.numbers[number.sid] = number
            return number

    def add_application(self, account_sid: str, voice_url: str = "", friendly_name: str = "",
                        voice_method: str = "POST", sid: Optional[str] = None) -> Application:
        """Create a TwiML App (``AP…``) for calls placed from the browser SDK."""
        self._account(account_sid)
        with self.lock:
            now = self.clock.now()
            app = Application(sid or new_sid("AP"), account_sid, friendly_name, now, now,
                              voice_url=voice_url, voice_method=voice_method)
            self.applications[app.sid] = app
            return app

    def add_key(self, account_sid: str, friendly_name: str = "", sid: Optional[str] = None,
                secret: Optional[str] = None) -> ApiKey:
        """Create an API key (``SK…``); returns it with its secret."""
        self._account(account_sid)
        with self.lock:
            now = self.clock.now()
            key = ApiKey(sid or new_sid("SK"), account_sid, secret or secrets.token_hex(16),
                         friendly_name, now, now)
            self.keys[key.sid] = key
            return key

    def _account(self, sid: str) -> Account:
        try:
            return self.accounts[sid]
        except KeyError:
            raise SimulatorError(f"unknown account {sid}") from None

    # ================================================================ inspection
    @property
    def errors(self) -> list[dict]:
        """Every error and warning logged so far (Twilio's debugger), oldest first.

        Each entry has ``account_sid``, ``call_sid``, ``code`` (e.g. 11200, 12100), ``message``,
        ``url``, ``method``, ``response_status``, ``response_body`` and ``level``.
        """
        with self.lock:
            return [n.as_dict() for n in self.notifications.values()]

    def errors_for(self, account_sid: str) -> list[dict]:
        """The debugger log of one account."""
        return [e for e in self.errors if e["account_sid"] == account_sid]

    @property
    def webhooks(self) -> list[dict]:
        """Every webhook request made so far, oldest first (kind, url, method, params…)."""
        with self.lock:
            return [record.as_dict() for record in self.webhook_records]

    @property
    def rest_requests(self) -> list[dict]:
        """Every REST API request made so far, oldest first: ``method``, ``path``, ``params``
        (form parameters of a POST) and the answer's ``status``."""
        with self.lock:
            return [dict(r) for r in self.rest_log]

    @property
    def now(self) -> float:
        """Virtual seconds since the simulator started."""
        return self.clock.seconds

    def call(self, sid: str) -> CallHandle:
        """A handle on any call leg by SID."""
        with self.lock:
            if sid not in self.calls:
                raise SimulatorError(f"unknown call {sid}")
            return CallHandle(self, self.calls[sid])

    @property
    def api_base(self) -> str:
        """Base URL of the REST API as seen by the application."""
        if self.public_base_url:
            return self.public_base_url
        if self._server is not None:
            return self._server.url
        return "https://api.twilio.com"

    # ================================================================ time
    def settle(self, timeout: float = SETTLE_CEILING) -> None:
        """Wait until no work is pending and no webhook is in flight."""
        self.engine.settle(timeout)

    def advance(self, seconds: float, timeout: float = SETTLE_CEILING) -> None:
        """Move virtual time on, firing ring timeouts, Gather timeouts, queue wait loops…"""
        self.engine.advance(seconds, timeout)

    def act(self, fn, *args) -> None:
        """Run ``fn(*args)`` on the engine and wait for everything it causes to settle."""
        self.engine.submit(fn, *args)
        self.engine.settle()

    # ================================================================ parties
    def dial(self, from_: str, to: str) -> CallHandle:
        """A caller at ``from_`` calls the Twilio number ``to``; returns the inbound leg."""
        with self.lock:
            number = self.number_by_phone(to)
            if number is None or not number.voice:
                raise SimulatorError(f"{to} is not a voice number of any account")
            call = self._new_call(number.account_sid, from_, to, "inbound",
                                  phone_number_sid=number.sid, party=Caller())
            call.status = "ringing"
            call.status_callback = number.status_callback
            call.status_callback_method = number.status_callback_method
            call.status_callback_events = ("completed",)
            url, method = number.voice_url, number.voice_method
            call.fallback_url = number.voice_fallback_url or ""
            call.fallback_method = number.voice_fallback_method
            if number.voice_application_sid in self.applications:
                app = self.applications[number.voice_application_sid]
                url, method = app.voice_url, app.voice_method
                call.fallback_url, call.fallback_method = (app.voice_fallback_url,
                                                           app.voice_fallback_method)
        self.act(self.start_process, call, DocumentRequest(url or "", method))
        return CallHandle(self, call)

    def client(self, account_sid: str, identity: str, application_sid: Optional[str] = None,
               incoming: bool = True) -> Device:
        """Register a softphone (Voice SDK Device) with ``identity``."""
        self._account(account_sid)
        device = Device(self, account_sid, identity, application_sid, incoming)
        with self.lock:
            self.devices.setdefault((account_sid, identity), []).append(device)
        return device

    def client_from_token(self, token: str) -> Device:
        """Register a softphone from a real AccessToken JWT, verified like Twilio does.

        The token must be signed (HS256) with the secret of the API key named in ``iss``, for
        the account in ``sub``, not expired; the identity comes from ``grants.identity`` and
        the TwiML App for outgoing calls from ``grants.voice.outgoing.application_sid``.
        """
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise SimulatorError(f"invalid access token: {exc}") from exc
        key = self.keys.get(unverified.get("iss", ""))
        if key is None or key.account_sid != unverified.get("sub"):
            raise SimulatorError("access token names an unknown API key (20101)")
        try:
            claims = jwt.decode(token, key.secret, algorithms=["HS256"])
        except jwt.ExpiredSignatureError as exc:
            raise SimulatorError("access token expired (20104)") from exc
        except jwt.PyJWTError as exc:
            raise SimulatorError(f"invalid access token signature (20107): {exc}") from exc
        grants = claims.get("grants", {})
        identity = grants.get("identity")
        if not identity:
            raise SimulatorError("access token has no identity")
        voice = grants.get("voice", {})
        return self.client(key.account_sid, identity,
                           voice.get("outgoing", {}).get("application_sid"),
                           bool(voice.get("incoming", {}).get("allow", False)))

    def phone(self, number: str) -> Phone:
        """The external phone (or SIP endpoint) at ``number``; created on first use."""
        with self.lock:
            if number not in self.phones:
                self.phones[number] = Phone(self, number)
            return self.phones[number]

    def send_sms(self, from_: str, to: str, body: str) -> Message:
        """An SMS from an external phone to a Twilio number: the number's SmsUrl is called."""
        with self.lock:
            number = self.number_by_phone(to)
            if number is None or not number.sms:
                raise SimulatorError(f"{to} is not an SMS-capable number of any account")
            message = self._new_message(number.account_sid, from_, to, body, "inbound")
            message.status = "received"
        self.act(self._receive_message, message, number)
        return message

    # ================================================================ server
    @property
    def wsgi_app(self):
        """The REST API (``/2010-04-01/…``) and control API (``/sim/v1/…``) as one WSGI app."""
        from .server import make_app
        return make_app(self)

    def serve(self, host: str = "127.0.0.1", port: int = 0):
        """Serve :attr:`wsgi_app` in a background thread; returns the server (``url``, ``stop``)."""
        from .server import SimulatorServer
        server = SimulatorServer(self.wsgi_app, host, port)
        server.start()
        self._server = server
        return server

    def close(self) -> None:
        """Stop the server (if any) and the engine."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.engine.stop()
        self.sender.session.close()

    # ================================================================ lookups
    def number_by_phone(self, phone_number: str) -> Optional[PhoneNumber]:
        with self.lock:
            return next((n for n in self.numbers.values() if n.phone_number == phone_number),
                        None)

    def account_numbers(self, account_sid: str) -> list[PhoneNumber]:
        with self.lock:
            return [n for n in self.numbers.values() if n.account_sid == account_sid]

    # ================================================================ creation
    def _new_call(self, account_sid: str, from_: str, to: str, direction: str, **fields) -> Call:
        with self.lock:
            call = Call(new_sid("CA"), account_sid, from_, to, direction, self.clock.now(),
                        **fields)
            self.calls[call.sid] = call
            return call

    def create_api_call(self, account_sid: str, to: str, from_: str, request: DocumentRequest,
                        *, status_callback: str = "", status_callback_method: str = "POST",
                        status_callback_events: tuple = ("completed",), timeout: int = 60,
                        record: Optional[dict] = None) -> Call:
        """Calls create: a queued outbound-api leg; ringing starts on the engine."""
        call = self._new_call(account_sid, from_, to, "outbound-api")
        call.answer_request = request
        call.fallback_url, call.fallback_method = request.fallback_url, request.fallback_method
        call.status_callback = status_callback
        call.status_callback_method = status_callback_method
        call.status_callback_events = status_callback_events
        call.record_options = record or {}
        call.on_answer = self._api_call_answered
        self.engine.submit(self._launch_api_call, call, timeout)
        return call

    # ================================================================ engine side: programs
    def start_process(self, call: Call, request: DocumentRequest) -> None:
        """Start executing TwiML on a leg (replacing nothing: the leg has no program)."""
        self.start_program(call, CallProgram(self, call).run(request))

    def start_program(self, call: Call, program) -> None:
        """Run a program generator (TwiML, or a REST participant's stay) on a leg."""
        if call.ended:
            return
        call.process = program
        self._step(call)

    def _step(self, call: Call, value=None, exc: Optional[BaseException] = None) -> None:
        """Resume a leg's program until it waits again or finishes."""
        program, previous = call.process, call.wait
        call.wait, call.stepping = None, True
        finished, final_status = False, None
        try:
            wait = program.throw(exc) if exc is not None else program.send(value)
        except StopIteration:
            finished = True
        except CallEnded as ended:
            finished, final_status = True, ended.status
        except Exception:
            call.stepping = False
            call.process = None
            self.finalize(call, "failed")
            raise
        finally:
            call.stepping = False
        if previous is not None and (finished or previous is not wait):
            previous.cancel_timers()
        if finished:
            call.process = None
            if call.whisper is not None and not call.whisper_done and not call.ended \
                    and call.pending_status is None:
                call.whisper_done = True
                if call.dial_parent is not None:
                    self.deliver(call.dial_parent, Event("leg", call))
                return
            self.finalize(call, final_status or call.pending_status or "completed")
            return
        call.wait = wait
        if call.pending_interrupt is not None:
            pending, call.pending_interrupt = call.pending_interrupt, None
            self._step(call, exc=pending)

    def deliver(self, call: Call, event: Event) -> None:
        """Queue an event for a leg's program (never resumes it re-entrantly)."""
        self.engine.submit(self.deliver_now, call, event, None)

    def deliver_now(self, call: Call, event: Event, wait=None) -> None:
        """Resume a leg's program with an event it waits for (``wait``: only if still current)."""
        if call.ended or call.process is None or call.wait is None or call.stepping:
            return
        if wait is not None and call.wait is not wait:
            return  # a timer of a wait that is over
        if event.kind in call.wait.accepts:
            self._step(call, value=event)

    def interrupt(self, call: Call, exc: BaseException) -> None:
        """Queue an exception to throw into a leg's program (hang-up, redirect, dequeue)."""
        self.engine.submit(self.interrupt_now, call, exc)

    def interrupt_now(self, call: Call, exc: BaseException) -> None:
        """Throw an exception into a leg's program now (or as soon as it yields)."""
        if call.ended or call.process is None:
            return
        if isinstance(exc, QueueBridged) and call.queue_member is None:
            if call.bridge is not None:
                self.break_bridge(call.bridge, ended=call)
            return
        if call.stepping:
            call.pending_interrupt = exc
            return
        self._step(call, exc=exc)

    # ================================================================ engine side: legs
    def call_params(self, call: Call) -> dict:
        """The standard parameters of every voice webhook for this leg."""
        params = {
            "AccountSid": call.account_sid, "ApiVersion": "2010-04-01", "CallSid": call.sid,
            "CallStatus": call.status, "Called": call.to, "Caller": call.from_,
            "Direction": call.direction, "From": call.from_, "To": call.to,
        }
        if call.parent_call_sid:
            params["ParentCallSid"] = call.parent_call_sid
        if call.application_sid:
            params["ApplicationSid"] = call.application_sid
        params.update(call.request_params)
        return params

    def hear(self, call: Call, item: dict) -> None:
        with self.lock:
            call.heard.append(item)

    def note(self, call: Call, event: str, **data) -> None:
        with self.lock:
            call.events.append({"at": self.clock.seconds, "event": event, **data})

    def mark_answered(self, call: Call) -> None:
        """The leg is connected: in-progress from now on."""
        if call.answered_at is not None or call.ended:
            return
        with self.lock:
            call.status = "in-progress"
            call.answered_at = self.clock.seconds
            call.start_time = call.date_updated = self.clock.now()
        self.note(call, "answered")
        self.emit_progress(call, "answered")

    def emit_progress(self, call: Call, event: str) -> None:
        """A call progress status callback, if the leg asked for ``event``."""
        if not call.status_callback or event not in call.status_callback_events:
            return
        params = self.call_params(call)
        params["CallStatus"] = {"initiated": "initiated", "ringing": "ringing",
                                "answered": "in-progress"}.get(event, call.status)
        params.update(CallbackSource="call-progress-events",
                      SequenceNumber=call.sequence_number,
                      Timestamp=rfc2822(self.clock.now()))
        if event == "completed":
            params["CallDuration"] = call.duration or 0
            params["Duration"] = math.ceil((call.duration or 0) / 60)
        call.sequence_number += 1
        self.callback(call.account_sid, "status-callback", call.status_callback,
                      call.status_callback_method, params, call.sid)

    def caller_id_problem(self, call: Call, caller_id: str) -> Optional[tuple]:
        """Why ``caller_id`` cannot be used to <Dial> a number from this leg, if it cannot."""
        owned = {n.phone_number for n in self.account_numbers(call.account_sid) if n.voice}
        if caller_id in owned:
            return None
        if call.direction == "inbound" and caller_id in (call.from_, call.to) \
                and not caller_id.startswith("client:"):
            return None
        return INVALID_CALLER_ID, f"Dial: Invalid callerId value {caller_id!r}"

    @staticmethod
    def dialing_restriction(from_: str, to: str) -> Optional[str]:
        """Japanese carrier rules (F-NUM-3/4): numbers 0120/0800 and 050 numbers cannot call."""
        source, target = _national_jp(from_), _national_jp(to)
        if source is None or target is None:
            return None
        if source.startswith(("0120", "0800")):
            blocked = _FREEPHONE_BLOCKED
        elif source.startswith("050"):
            blocked = _IP_PHONE_BLOCKED
        else:
            return None
        if target.startswith(blocked) or target.startswith("#") or (
                re.fullmatch(r"1\d\d", target) and target != "177"):
            return f"Dial: Forbidden phone number {to} from {from_}"
        return None

    def create_dial_leg(self, parent: Call, to: str, from_: str, parameters: dict, *,
                        status_callback: str, status_callback_method: str,
                        status_callback_events: tuple, whisper) -> Call:
        leg = self._new_call(parent.account_sid, from_, to, "outbound-dial",
                             parent_call_sid=parent.sid, dial_parent=parent,
                             custom_parameters=parameters, whisper=whisper,
                             whisper_done=whisper is None)
        leg.status_callback = status_callback
        leg.status_callback_method = status_callback_method
        leg.status_callback_events = status_callback_events
        leg.on_answer = self._dial_leg_answered
        return leg

    def ring(self, leg: Call) -> None:
        """Initiate a leg and ring its party (phone behaviour, or devices of a client)."""
        self.emit_progress(leg, "initiated")
        problem = self.dialing_restriction(leg.from_, leg.to)
        if problem:
            self.record_error(leg.account_sid, FORBIDDEN_NUMBER, problem, "", "",
                              call_sid=leg.sid)
            self.finalize(leg, "failed")
            return
        if leg.to.startswith("client:"):
            with self.lock:
                devices = [d for d in self.devices.get((leg.account_sid, leg.to[7:]), [])
                           if d.registered and d.incoming]
            if not devices:
                self.finalize(leg, "no-answer")
                return
            leg.ringing_devices = devices
            leg.party = devices[0]
        else:
            leg.party = self.phone(leg.to)
        with self.lock:
            leg.status = "ringing"
            leg.date_updated = self.clock.now()
        self.note(leg, "ringing")
        self.emit_progress(leg, "ringing")
        for party in leg.ringing_devices or [leg.party]:
            party.on_ring(leg)

    def answer(self, leg: Call, party=None) -> None:
        """The remote party picks up a ringing leg."""
        if leg.ended or leg.status != "ringing":
            return
        if party is not None:
            leg.party = party
        for device in leg.ringing_devices:
            device.on_ring_over(leg)
        if leg.ring_timer is not None:
            leg.ring_timer.cancel()
        self.mark_answered(leg)
        if leg.on_answer is not None:
            leg.on_answer(leg)

    def _dial_leg_answered(self, leg: Call) -> None:
        if leg.whisper is not None:
            self.start_process(leg, leg.whisper)
        else:
            self.deliver(leg.dial_parent, Event("leg", leg))

    def _launch_api_call(self, call: Call, timeout: int) -> None:
        if call.ended:
            return
        self.ring(call)
        if not call.ended and call.status == "ringing":
            call.ring_timer = self.engine.call_later(timeout, self._ring_timeout, call)

    def _ring_timeout(self, call: Call) -> None:
        if call.status == "ringing" and not call.ended:
            self.end_leg(call, "no-answer")

    def _api_call_answered(self, call: Call) -> None:
        options = call.record_options
        if options:
            call.recording = self.start_recording(
                call, "OutboundAPI", options.get("channels", 1),
                callback=options.get("callback", ""),
                callback_method=options.get("callback_method", "POST"),
                callback_events=options.get("callback_events", ("completed",)))
        self.start_process(call, call.answer_request)

    def redirect(self, call: Call, request: DocumentRequest) -> None:
        """REST update with Url/Twiml (or a queue member dequeued with Url)."""
        if call.ended:
            return
        if call.answered_at is None and call.direction == "outbound-api":
            call.answer_request = request
            return
        self.note(call, "redirected", url=request.url)
        if call.process is not None:
            self.interrupt_now(call, Redirected(request))
            return
        if call.bridge is not None:
            self.break_bridge(call.bridge, ended=call)
        self.start_process(call, request)

    def hangup(self, call: Call, status: str = "completed") -> None:
        """End a leg from outside its program (party hangs up, REST Status=completed…)."""
        if call.ended:
            return
        if call.process is not None:
            self.interrupt_now(call, CallEnded(status))
            if call.process is not None and not call.stepping:
                call.process.close()
                call.process = None
                self.finalize(call, status)
        else:
            self.finalize(call, status)

    end_leg = hangup

    def finalize(self, call: Call, status: str) -> None:
        """The leg is over: set its final status, release what it holds, report it."""
        if call.ended:
            return
        with self.lock:
            call.ended = True
            call.ended_at = self.clock.seconds
            if call.answered_at is not None:
                call.status = "completed"
                call.duration = int(call.ended_at - call.answered_at)
            else:
                call.status = "canceled" if status == "completed" else status
                call.duration = 0
            call.end_time = call.date_updated = self.clock.now()
        if call.ring_timer is not None:
            call.ring_timer.cancel()
        if call.wait is not None:
            call.wait.cancel_timers()
            call.wait = None
        for device in call.ringing_devices:
            device.on_ring_over(call)
        self.note(call, "ended", status=call.status)
        if call.recording is not None:
            self.finish_recording(call.recording)
        if call.bridge is not None:
            self.break_bridge(call.bridge, ended=call)
        if call.participant is not None:
            self.leave_conference(call.participant)
        if call.queue_member is not None:
            self.leave_queue(call.queue_member)
        pending = self._pending_participants.pop(call.sid, None)
        if pending is not None:
            pending.status = "failed"
        if call.party is not None:
            call.party.on_call_ended(call)
        self.emit_progress(call, "completed")
        if call.dial_parent is not None:
            self.deliver(call.dial_parent, Event("leg", call))

    def bridge(self, a: Call, b: Call) -> Bridge:
        for leg in (a, b):
            if leg.bridge is not None:
                self.break_bridge(leg.bridge, ended=leg)
        bridge = Bridge(a, b, self.clock.seconds)
        a.bridge = b.bridge = bridge
        self.note(a, "bridged", peer=b.sid)
        self.note(b, "bridged", peer=a.sid)
        return bridge

    def break_bridge(self, bridge: Bridge, ended: Optional[Call] = None) -> None:
        """Part two bridged legs; the side that did not leave is told (or hung up)."""
        for leg in (bridge.a, bridge.b):
            if leg.bridge is bridge:
                leg.bridge = None
                self.note(leg, "unbridged")
        for leg in (bridge.a, bridge.b):
            if leg is ended or leg.ended:
                continue
            if leg.process is not None:
                self.deliver(leg, Event("bridge-ended"))
            else:
                self.hangup(leg)

    def press(self, call: Call, digits: str) -> None:
        """DTMF from the leg's remote party."""
        if call.ended:
            return
        self.note(call, "dtmf", digits=digits)
        if call.wait is not None and "digits" in call.wait.accepts:
            self.deliver_now(call, Event("digits", digits))
        elif call.bridge is not None:
            peer = call.bridge.other(call)
            self.note(peer, "dtmf-received", digits=digits)

    def silence(self, call: Call) -> None:
        """The remote party stays silent: a waiting Gather or Record times out now."""
        if call.wait is not None and "silence" in call.wait.accepts:
            self.deliver_now(call, Event("silence"))

    def play_media(self, call: Call, url: str, method: str = "POST",
                   params: Optional[dict] = None, *, playing: Optional[Callable[[], bool]] = None) -> None:
        """Fetch a URL played to the leg (hold, announce, queue url, conference wait music).

        An audio answer is a Play; TwiML may hold Say, Play, Pause and Redirect. With
        ``playing`` (the leg still waits, or is still held), the media lasts as long as its
        verbs do in virtual time and a ``<Redirect>`` is followed once they have been heard,
        for as long as ``playing()`` is true: Twilio loops a conference waitUrl or a HoldUrl
        that redirects to itself. Without it (an announcement) redirects are followed at once.
        """
        program = CallProgram(self, call)
        for _hop in range(5):
            result = self.post(call.account_sid, "media", url, method,
                               {**self.call_params(call), **(params or {})}, call.sid)
            if not result.ok:
                self.record_error(call.account_sid, result.error_code, result.error_message,
                                  result.url, result.method, call_sid=call.sid,
                                  response_status=result.status, response_body=result.body)
                return
            if result.content_type.split(";")[0].strip().lower().startswith("audio/"):
                self.hear(call, {"verb": "Play", "url": url, "loop": 1})
                return
            try:
                document = twiml.parse(result.body, url)
            except twiml.TwimlError as exc:
                self.record_error(call.account_sid, exc.code, exc.message, url, method,
                                  call_sid=call.sid, response_body=result.body)
                return
            redirect, length = None, 0
            for verb in document.verbs:
                if verb.tag in ("Say", "Play", "Pause"):
                    getattr(program, "verb_" + verb.tag.lower())(verb, document)
                    length += self.verb_seconds(verb)
                elif verb.tag == "Redirect":
                    redirect = program.verb_redirect(verb, document)
                    break
            if redirect is None:
                return
            if playing is not None:
                def again(redirect=redirect):
                    if call.status == "in-progress" and playing():
                        self.play_media(call, redirect.url, redirect.method, params, playing=playing)

                self.engine.call_later(max(1, length), again)
                return
            url, method = redirect.url, redirect.method

    def verb_seconds(self, verb) -> int:
        """How long an instant verb lasts in a wait document (virtual seconds)."""
        if verb.tag == "Pause":
            return twiml.number(verb, "length", 1)
        loops = twiml.number(verb, "loop", 1) or 1
        if verb.tag == "Play":
            return self.play_seconds * loops
        return max(1, math.ceil(len(twiml.text_of(verb)) / 15)) * loops

    # ================================================================ webhooks and errors
    def post(self, account_sid: str, kind: str, url: str, method: str, params: dict,
             call_sid: Optional[str] = None):
        """Send one signed webhook and log it; returns the WebhookResult."""
        account = self._account(account_sid)
        if not url:
            return WebhookResult(url="", method=method, params=params,
                                 error_code=HTTP_RETRIEVAL_FAILURE,
                                 error_message="HTTP retrieval failure: no URL configured")
        result = self.sender.send(url, method, params, account.auth_token)
        with self.lock:
            self.webhook_records.append(WebhookRecord(kind, result.url, result.method,
                                                      result.params, result.status,
                                                      result.error_code, call_sid,
                                                      result.body[:20000], result.seconds))
        return result

    def callback(self, account_sid: str, kind: str, url: str, method: str, params: dict,
                 call_sid: Optional[str] = None) -> None:
        """A webhook whose answer does not matter (status callbacks); failures are logged."""
        with self.lock:
            held = self._held_callbacks.get(call_sid) if call_sid else None
            if held is not None and kind == "status-callback":
                held.append((account_sid, kind, url, method, dict(params), call_sid))
                return
        result = self.post(account_sid, kind, url, method, params, call_sid)
        if not result.ok:
            self.record_error(account_sid, result.error_code, result.error_message, result.url,
                              result.method, call_sid=call_sid, response_status=result.status,
                              response_body=result.body)

    # ================================================================ late and repeated webhooks
    def hold_callbacks(self, call_sid: str) -> None:
        """Hold back the call progress status callbacks of one leg until
        :meth:`release_callbacks`: Twilio does not order callbacks of different legs, so one
        leg's ``completed`` may reach the application long after another's."""
        with self.lock:
            self._held_callbacks.setdefault(call_sid, [])

    def release_callbacks(self, call_sid: str) -> int:
        """Send what :meth:`hold_callbacks` held for ``call_sid``, in order (then settle);
        returns how many were sent."""
        with self.lock:
            held = self._held_callbacks.pop(call_sid, [])
        for args in held:
            self.engine.submit(self.callback, *args)
        self.settle()
        return len(held)

    def resend(self, webhook: dict, *, url: Optional[str] = None, kind: Optional[str] = None,
               **changes) -> WebhookResult:
        """Send a POST webhook of :attr:`webhooks` again, signed afresh, with ``changes`` to
        its parameters (and another ``url``/``kind``): a retry, or a request that arrives
        after the call has ended — e.g. the action of the Gather in a webhook's answer
        (:func:`gather_action`) with the ``Digits`` the caller pressed as they hung up.
        Returns the :class:`WebhookResult` (``status``, ``body``)."""
        call_sid = webhook.get("call_sid")
        params = {**webhook["params"], **changes}
        return self.post(params["AccountSid"], kind or webhook["kind"], url or webhook["url"],
                         "POST", params, call_sid)

    def record_error(self, account_sid: str, code: int, message: str, url: str, method: str,
                     *, call_sid: Optional[str] = None, response_status: Optional[int] = None,
                     response_body: str = "", level: int = 0) -> None:
        """Log an error in the account's debugger (``Simulator.errors``, Notifications)."""
        with self.lock:
            notification = Notification(new_sid("NO"), account_sid, call_sid, code, message,
                                        url, method, self.clock.now(), response_status,
                                        response_body[:2000], level)
            self.notifications[notification.sid] = notification
            call = self.calls.get(call_sid) if call_sid else None
        if call is not None:
            self.note(call, "error", code=code, message=message)
