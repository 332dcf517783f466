"""TwiML execution for one call leg.

A leg's program is a generator running on the engine thread. Instant verbs (Say, Play, Pause)
are recorded in ``call.heard`` and complete at once; verbs that wait for somebody (Gather,
Record, Dial, Enqueue) *yield* a :class:`Wait` and are resumed with an :class:`Event` when the
caller script acts, a timer of virtual time fires, or another leg changes state. Things that
cut across whatever the leg is doing (hang-up, REST redirect, being dequeued) are *thrown*
into the generator as exceptions, so every verb can clean up exactly as Twilio does (post its
action with the right result, hang up its child legs…).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import urljoin

from . import twiml
from .models import DEFAULT_HOLD_MUSIC

if TYPE_CHECKING:  # pragma: no cover
    from .core import Simulator
    from .models import Call

APPLICATION_ERROR_TEXT = "We are sorry, an application error has occurred. Goodbye."


# --- control flow ------------------------------------------------------------------------------
class CallEnded(Exception):
    """Thrown into a program when its leg is hung up from outside."""

    def __init__(self, status: str = "completed"):
        super().__init__(status)
        self.status = status


class Redirected(Exception):
    """Thrown into a program when its leg is sent to a new document (REST, dequeue)."""

    def __init__(self, request: "DocumentRequest"):
        super().__init__(request.url)
        self.request = request


class QueueBridged(Exception):
    """Thrown into an enqueued caller's program when a <Dial><Queue> picks it up."""

    def __init__(self, peer: "Call"):
        super().__init__(peer.sid)
        self.peer = peer


class HangupRequested(Exception):
    """Raised by <Hangup>/<Reject> and by fatal errors: end the leg with ``status``."""

    def __init__(self, status: str = "completed"):
        super().__init__(status)
        self.status = status


class LeaveQueue(Exception):
    """Raised by <Leave> inside a wait document."""


@dataclass
class DocumentRequest:
    """Where the next TwiML document comes from: a URL (with extra parameters) or inline."""

    url: str = ""
    method: str = "POST"
    params: dict = field(default_factory=dict)
    twiml: Optional[str] = None
    fallback_url: str = ""
    fallback_method: str = "POST"
    #: what the request is for, as logged in ``Simulator.webhooks``: voice, action, redirect…
    kind: str = "voice"


@dataclass
class Event:
    kind: str
    data: Any = None


class Wait:
    """What a program waits for: the event kinds it accepts and the timers it armed."""

    def __init__(self, kind: str, accepts: set, timers: tuple = ()):
        self.kind, self.accepts, self.timers = kind, set(accepts), list(timers)

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()

    def __repr__(self) -> str:
        return f"<Wait {self.kind} {sorted(self.accepts)}>"


def _method(element, name: str = "method", default: str = "POST") -> str:
    return (element.get(name) or default).upper()


class CallProgram:
    """The TwiML interpreter of one leg. ``run()`` is the generator the engine drives."""

    def __init__(self, sim: "Simulator", call: "Call"):
        self.sim = sim
        self.call = call

    # --- helpers -------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.sim.clock.seconds

    def hear(self, item: dict) -> None:
        self.sim.hear(self.call, item)

    def wait(self, kind: str, accepts: set, timeout: Optional[float] = None) -> Wait:
        """A Wait, with a timer that delivers ``Event("timeout")`` after ``timeout`` seconds."""
        wait = Wait(kind, accepts | ({"timeout"} if timeout is not None else set()))
        if timeout is not None:
            wait.timers.append(self.sim.engine.call_later(
                timeout, self.sim.deliver_now, self.call, Event("timeout"), wait))
        return wait

    def post_ignoring_answer(self, request: DocumentRequest, ended: bool) -> None:
        """Request an action URL whose TwiML Twilio ignores (the leg is ending or moving on)."""
        params = self.sim.call_params(self.call)
        if ended:
            params["CallStatus"] = "completed"
        self.sim.callback(self.call.account_sid, "action", request.url, request.method,
                          {**params, **request.params}, self.call.sid)

    # --- documents -------------------------------------------------------------------------
    def fetch(self, request: DocumentRequest) -> twiml.Document:
        """Get and parse a document; on failure try the fallback URL, else end the call.

        Like Twilio: a failed request or unparsable TwiML is logged (11200/11205/12100); if a
        fallback URL is configured it is requested with ErrorCode and ErrorUrl; otherwise the
        caller hears the application-error message and the call ends.
        """
        if request.twiml is not None:
            try:
                return twiml.parse(request.twiml, "")
            except twiml.TwimlError as exc:
                self.sim.record_error(self.call.account_sid, exc.code, exc.message, "", "",
                                      call_sid=self.call.sid, response_body=request.twiml)
                return self.application_error()
        params = {**self.sim.call_params(self.call), **request.params}
        result = self.sim.post(self.call.account_sid, request.kind, request.url, request.method,
                               params, call_sid=self.call.sid)
        document, code, message = self._document_from(result)
        if document is not None:
            return document
        self.sim.record_error(self.call.account_sid, code, message, result.url, result.method,
                              call_sid=self.call.sid, response_status=result.status,
                              response_body=result.body)
        fallback = request.fallback_url or self.call.fallback_url
        if fallback:
            fallback_method = request.fallback_method if request.fallback_url \
                else self.call.fallback_method
            result = self.sim.post(self.call.account_sid, "voice-fallback", fallback,
                                   fallback_method,
                                   {**params, "ErrorCode": code, "ErrorUrl": request.url},
                                   call_sid=self.call.sid)
            document, code, message = self._document_from(result)
            if document is not None:
                return document
            self.sim.record_error(self.call.account_sid, code, message, result.url,
                                  result.method, call_sid=self.call.sid,
                                  response_status=result.status, response_body=result.body)
        return self.application_error()

    def _document_from(self, result):
        """(document, None, "") from a webhook answer, or (None, error code, message)."""
        if not result.ok:
            return None, result.error_code, result.error_message
        if result.content_type.split(";")[0].strip().lower().startswith("audio/"):
            # Twilio plays an audio file returned instead of TwiML.
            return twiml.Document(root=_play_document(result.url), url=result.url), None, ""
        try:
            document = twiml.parse(result.body, result.url.split("?")[0]
                                   if result.method == "GET" else result.url)
        except twiml.TwimlError as exc:
            return None, exc.code, exc.message
        for warning in document.warnings:
            self.sim.record_error(self.call.account_sid, twiml.SCHEMA_VALIDATION_WARNING,
                                  warning, result.url, result.method, call_sid=self.call.sid,
                                  level=1)
        return document, None, ""

    def application_error(self):
        """Play Twilio's application-error message and end the call."""
        self.sim.mark_answered(self.call)  # Twilio answers to play the message
        self.hear({"verb": "Say", "text": APPLICATION_ERROR_TEXT, "voice": "woman",
                   "language": "en-US", "application_error": True})
        raise HangupRequested("completed")

    # --- main loop -------------------------------------------------------------------------
    def run(self, request: DocumentRequest):
        """Execute documents until the call ends. The generator the engine drives."""
        try:
            while request is not None:
                try:
                    document = self.fetch(request)
                    request = yield from self.execute(document)
                except Redirected as redirect:
                    request = redirect.request
        except HangupRequested as hangup:
            self.call.pending_status = hangup.status

    def execute(self, document: twiml.Document):
        """Run a document's verbs; return the next DocumentRequest, or None at its end."""
        for verb in document.verbs:
            handler = getattr(self, "verb_" + verb.tag.lower(), None)
            if handler is None or verb.tag not in twiml.VOICE_VERBS:
                continue
            if verb.tag != "Reject":
                self.sim.mark_answered(self.call)  # Twilio answers before the first verb
            result = handler(verb, document)
            if inspect.isgenerator(result):
                result = yield from result
            if result is not None:
                return result
        return None

    # --- instant verbs ---------------------------------------------------------------------
    def verb_say(self, verb, document):
        self.hear({"verb": "Say", "text": twiml.text_of(verb),
                   "voice": verb.get("voice", "man"), "language": verb.get("language", "en-US"),
                   "loop": twiml.number(verb, "loop", 1)})

    def verb_play(self, verb, document):
        if verb.get("digits"):
            self.hear({"verb": "Play", "digits": verb.get("digits")})
            return
        self.hear({"verb": "Play", "url": urljoin(document.url, (verb.text or "").strip()),
                   "loop": twiml.number(verb, "loop", 1)})

    def verb_pause(self, verb, document):
        self.hear({"verb": "Pause", "length": twiml.number(verb, "length", 1)})

    def verb_redirect(self, verb, document):
        return DocumentRequest(url=urljoin(document.url, (verb.text or "").strip()),
                               method=_method(verb), kind="redirect")

    def verb_hangup(self, verb, document):
        raise HangupRequested("completed")

    def verb_reject(self, verb, document):
        self.sim.note(self.call, "rejected", reason=verb.get("reason", "rejected"))
        raise HangupRequested("busy")

    def verb_leave(self, verb, document):
        """<Leave> outside a queue's wait document does nothing (as on Twilio)."""

    # --- Gather ----------------------------------------------------------------------------
    def collect_digits(self, num_digits: int, timeout: int, finish_on_key: str):
        """Wait for DTMF; return (digits, key that finished them or '')."""
        digits = ""
        wait = self.wait("gather", {"digits", "silence"}, timeout)
        while True:
            event = yield wait
            if event.kind != "digits":
                return digits, ""
            for key in event.data:
                if finish_on_key and key in finish_on_key:
                    return digits, key
                digits += key
                if num_digits and len(digits) >= num_digits:
                    return digits, ""
            wait = self.wait("gather", {"digits", "silence"}, timeout)

    def verb_gather(self, verb, document):
        for child in verb:
            if child.tag in ("Say", "Play", "Pause"):
                getattr(self, "verb_" + child.tag.lower())(child, document)
        if "dtmf" not in verb.get("input", "dtmf"):
            self.sim.note(self.call, "gather-speech-unsupported")
        digits, key = yield from self.collect_digits(
            twiml.number(verb, "numDigits", 0), twiml.number(verb, "timeout", 5),
            verb.get("finishOnKey", "#"))
        self.sim.note(self.call, "gathered", digits=digits)
        action = urljoin(document.url, verb.get("action", "")) if (
            verb.get("action") or document.url) else ""
        if action and (digits or twiml.flag(verb, "actionOnEmptyResult")):
            return DocumentRequest(url=action, method=_method(verb), kind="action",
                                   params={"Digits": digits, "FinishedOnKey": key})
        return None

    # --- Record ----------------------------------------------------------------------------
    def verb_record(self, verb, document):
        if twiml.flag(verb, "playBeep", True):
            self.hear({"verb": "Beep"})
        finish_on_key = verb.get("finishOnKey", "1234567890*#")
        action = urljoin(document.url, verb.get("action", "")) if (
            verb.get("action") or document.url) else ""
        recording = self.sim.start_recording(
            self.call, "RecordVerb", 1,
            callback=urljoin(document.url, verb.get("recordingStatusCallback", ""))
            if verb.get("recordingStatusCallback") else "",
            callback_method=_method(verb, "recordingStatusCallbackMethod"),
            callback_events=twiml.events(verb.get("recordingStatusCallbackEvent"),
                                         ("completed",)))
        wait = self.wait("record", {"digits", "silence"}, twiml.number(verb, "maxLength", 3600))
        pressed = None
        try:
            while pressed is None:
                event = yield wait
                if event.kind != "digits":
                    break
                pressed = next((key for key in event.data if key in finish_on_key), None)
        except CallEnded:
            self.sim.finish_recording(recording)
            if action and recording.status == "completed":
                self.post_ignoring_answer(DocumentRequest(
                    action, _method(verb), self._recording_params(recording, "hangup")),
                    ended=True)
            raise
        except Redirected:
            self.sim.finish_recording(recording)
            raise
        self.sim.finish_recording(recording)
        if recording.status != "completed" or not action:
            return None
        return DocumentRequest(action, _method(verb), self._recording_params(recording, pressed),
                               kind="action")

    def _recording_params(self, recording, digits: Optional[str]) -> dict:
        params = {"RecordingUrl": self.sim.recording_url(recording),
                  "RecordingSid": recording.sid,
                  "RecordingDuration": recording.duration}
        if digits:
            params["Digits"] = digits
        return params

    # --- Dial ------------------------------------------------------------------------------
    def verb_dial(self, verb, document):
        nouns = [child for child in verb if child.tag in twiml.DIAL_NOUNS]
        if not nouns and (verb.text or "").strip():
            nouns = [twiml.ET.Element("Number")]
            nouns[0].text = verb.text.strip()
        action = urljoin(document.url, verb.get("action")) if verb.get("action") else ""
        kind = nouns[0].tag
        if kind == "Conference":
            result = yield from self.dial_conference(nouns[0], verb, document, action)
        elif kind == "Queue":
            result = yield from self.dial_queue(nouns[0], verb, document, action)
        else:
            result = yield from self.dial_parties(nouns, verb, document, action)
        if action:
            return DocumentRequest(action, _method(verb), result, kind="action")
        return None

    def _dial_target(self, noun) -> tuple[str, dict]:
        if noun.tag == "Client":
            identity = noun.find("Identity")
            name = (identity.text if identity is not None else noun.text) or ""
            params = {p.get("name"): p.get("value", "") for p in noun.findall("Parameter")
                      if p.get("name")}
            return "client:" + name.strip(), params
        return (noun.text or "").strip(), {}

    def dial_parties(self, nouns, verb, document, action):
        """<Dial> to numbers, clients and SIP: ring, bridge the first to answer, wait."""
        call = self.call
        caller_id = verb.get("callerId") or call.from_
        record = verb.get("record", "do-not-record")
        legs = []
        for noun in nouns:
            to, params = self._dial_target(noun)
            if noun.tag == "Number":
                problem = self.sim.caller_id_problem(call, caller_id)
                if problem:
                    self.sim.record_error(call.account_sid, problem[0], problem[1], "", "",
                                          call_sid=call.sid)
                    continue
            leg = self.sim.create_dial_leg(
                call, to, caller_id, params,
                status_callback=urljoin(document.url, noun.get("statusCallback", ""))
                if noun.get("statusCallback") else "",
                status_callback_method=_method(noun, "statusCallbackMethod"),
                status_callback_events=twiml.events(noun.get("statusCallbackEvent"),
                                                    ("completed",)),
                whisper=DocumentRequest(urljoin(document.url, noun.get("url")), _method(noun),
                                        kind="whisper")
                if noun.get("url") else None)
            legs.append(leg)
        if not legs:
            return {"DialCallStatus": "failed"}
        ring_wait = self.wait("dial", {"leg"}, twiml.number(verb, "timeout", 30))
        for leg in legs:
            self.sim.ring(leg)
        answered = None
        recording = None
        try:
            while answered is None and not all(leg.ended for leg in legs):
                event = yield ring_wait
                if event.kind == "timeout":
                    break
                if event.data.status == "in-progress" and getattr(event.data, "whisper_done",
                                                                   True):
                    answered = event.data
            for leg in legs:
                if leg is not answered and not leg.ended:
                    self.sim.end_leg(leg, "no-answer" if answered is None else "canceled")
            if answered is None:
                statuses = [leg.status for leg in legs]
                status = next((s for s in ("busy", "failed") if s in statuses), "no-answer")
                return {"DialCallStatus": status, "DialCallSid": legs[-1].sid,
                        "DialCallDuration": 0}
            self.sim.mark_answered(call)
            self.sim.bridge(call, answered)
            if record.startswith("record-from"):
                recording = self.sim.start_recording(
                    call, "DialVerb", 2 if record.endswith("-dual") else 1,
                    callback=urljoin(document.url, verb.get("recordingStatusCallback"))
                    if verb.get("recordingStatusCallback") else "",
                    callback_method=_method(verb, "recordingStatusCallbackMethod"),
                    callback_events=twiml.events(verb.get("recordingStatusCallbackEvent"),
                                                 ("completed",)))
            time_limit = twiml.number(verb, "timeLimit", 14400)
            bridged = self.wait("bridged", {"bridge-ended", "leg"}, time_limit)
            while answered.bridge is not None and not answered.ended:
                event = yield bridged
                if event.kind == "timeout":
                    self.sim.end_leg(answered, "completed")
                    break
        except (CallEnded, Redirected) as interruption:
            for leg in legs:
                if not leg.ended:
                    self.sim.end_leg(leg, "completed" if leg is answered else "canceled")
            if recording is not None:
                self.sim.finish_recording(recording)
            if isinstance(interruption, CallEnded) and action:
                self.post_ignoring_answer(DocumentRequest(action, _method(verb), {
                    **self._dial_result(answered, legs, recording),
                    "DialCallStatus": "completed" if answered else "canceled"}), ended=True)
            raise
        if recording is not None:
            self.sim.finish_recording(recording)
        return self._dial_result(answered, legs, recording)

    def _dial_result(self, answered, legs, recording) -> dict:
        leg = answered or (legs[-1] if legs else None)
        result = {"DialCallStatus": "completed" if answered else "no-answer",
                  "DialCallSid": leg.sid if leg else None,
                  "DialBridged": "true" if answered else "false"}
        if answered is not None:
            end = self.now if not answered.ended else answered.ended_at
            result["DialCallDuration"] = int(end - answered.answered_at)
        if recording is not None:
            result.update({"RecordingUrl": self.sim.recording_url(recording),
                           "RecordingSid": recording.sid,
                           "RecordingDuration": recording.duration})
        return result

    def dial_queue(self, noun, verb, document, action):
        """<Dial><Queue>: take the caller at the front of the queue and bridge to it."""
        call = self.call
        queue = self.sim.find_queue(call.account_sid, (noun.text or "").strip())
        if queue is None:
            return {"DialCallStatus": "failed"}
        wait = self.wait("dial-queue", {"member"}, twiml.number(verb, "timeout", 30))
        member = None
        peer = None
        bridged_at = None
        try:
            while member is None:
                member = self.sim.take_front_member(queue)
                if member is None:
                    queue.dequeuers.append(call)
                    event = yield wait
                    if call in queue.dequeuers:
                        queue.dequeuers.remove(call)
                    if event.kind == "timeout":
                        return {"DialCallStatus": "no-answer", "QueueSid": queue.sid}
            wait.cancel_timers()
            peer = member.call
            if noun.get("url"):
                self.sim.play_media(peer, urljoin(document.url, noun.get("url")), _method(noun),
                                    {"QueueSid": queue.sid, "CallSid": peer.sid,
                                     "QueueTime": int(self.now - member.enqueued_at),
                                     "DequeingCallSid": call.sid})
            self.sim.mark_answered(call)
            self.sim.bridge(call, peer)
            self.sim.interrupt(peer, QueueBridged(call))
            bridged_at = self.now
            bridged = Wait("bridged", {"bridge-ended"})
            while call.bridge is not None:
                yield bridged
        except (CallEnded, Redirected):
            if call in queue.dequeuers:
                queue.dequeuers.remove(call)
            if call.bridge is not None:
                self.sim.break_bridge(call.bridge, ended=call)
            raise
        return {"DialCallStatus": "completed", "DialCallSid": peer.sid, "QueueSid": queue.sid,
                "DialCallDuration": int(self.now - bridged_at)}

    def dial_conference(self, noun, verb, document, action):
        joined_at = self.now
        yield from self.conference(noun, document)
        return {"DialCallStatus": "completed", "DialCallDuration": int(self.now - joined_at)}

    def conference(self, noun, document, options: Optional[dict] = None):
        """Be a participant of a conference until removed, or until the conference ends."""
        options = options or self.sim.conference_options(noun, document)
        participant = self.sim.join_conference(self.call, options)
        try:
            wait = Wait("conference", {"removed", "conference-started"})
            while participant.status == "connected":
                yield wait
        except (CallEnded, Redirected):
            self.sim.leave_conference(participant)
            raise

    def run_participant(self, options: dict):
        """The program of a leg created by Participants create: be in the conference."""
        try:
            yield from self.conference(None, None, options)
        except HangupRequested:
            pass

    # --- Enqueue ---------------------------------------------------------------------------
    def verb_enqueue(self, verb, document):
        call = self.call
        action = urljoin(document.url, verb.get("action")) if verb.get("action") else ""
        queue = self.sim.get_or_create_queue(call.account_sid, twiml.text_of(verb))
        if len(queue.members) >= queue.max_size:
            result = {"QueueResult": "queue-full", "QueueSid": queue.sid, "QueueTime": 0}
            return DocumentRequest(action, _method(verb), result, kind="action") if action \
                else None
        member = self.sim.enqueue(call, queue)
        wait_url = urljoin(document.url, verb.get("waitUrl")) if verb.get("waitUrl") else ""
        bridged = False
        try:
            try:
                yield from self.queue_wait(member, wait_url, _method(verb, "waitUrlMethod"))
            except LeaveQueue:
                outcome = "leave"
            except QueueBridged:
                bridged = True
                self.sim.note(call, "dequeued", queue=queue.friendly_name)
                while call.bridge is not None:
                    yield Wait("bridged", {"bridge-ended"})
                outcome = "bridged"
        except (CallEnded, HangupRequested, Redirected) as interruption:
            self.sim.leave_queue(member)
            if action:
                if isinstance(interruption, Redirected):
                    outcome = "redirected-from-bridged" if bridged else "redirected"
                else:
                    outcome = "bridged" if bridged else "hangup"
                self.post_ignoring_answer(DocumentRequest(
                    action, _method(verb), self._queue_result(member, outcome)),
                    ended=not isinstance(interruption, Redirected))
            raise
        self.sim.leave_queue(member)
        if action:
            return DocumentRequest(action, _method(verb), self._queue_result(member, outcome),
                                   kind="action")
        return None

    def _queue_result(self, member, outcome: str) -> dict:
        left = member.left_at if member.left_at is not None else self.now
        return {"QueueResult": outcome, "QueueSid": member.queue.sid,
                "QueueTime": int(left - member.enqueued_at)}

    def queue_wait(self, member, wait_url: str, wait_method: str):
        """Loop the wait document while the caller is in the queue (until thrown out)."""
        if not wait_url:
            self.hear({"verb": "Play", "url": DEFAULT_HOLD_MUSIC, "loop": 0})
            while True:
                yield Wait("queue", set())
        queue = member.queue
        while True:
            if member not in queue.members:  # being bridged: wait for QueueBridged
                yield Wait("queue", set())
                continue
            started = self.now
            request = DocumentRequest(wait_url, wait_method, {
                "QueuePosition": queue.members.index(member) + 1,
                "QueueSid": queue.sid,
                "QueueTime": int(self.now - member.enqueued_at),
                "AvgQueueTime": queue.average_wait_time(),
                "CurrentQueueSize": len(queue.members)})
            length = yield from self.wait_document(request)
            remaining = started + max(1, length) - self.now
            if remaining > 0:
                yield self.wait("queue", set(), remaining)

    def wait_document(self, request: DocumentRequest):
        """Run a waitUrl document (Play, Say, Pause, Gather, Redirect, Leave, Hangup).

        Returns how long the document lasts in virtual seconds: Pause its length, Play
        ``play_seconds`` per loop, Say one second per 15 characters (at least one).
        """
        length = 0
        for _hop in range(10):
            result = self.sim.post(self.call.account_sid, "wait", request.url, request.method,
                                   {**self.sim.call_params(self.call), **request.params},
                                   call_sid=self.call.sid)
            document, code, message = self._document_from(result)
            if document is None:
                self.sim.record_error(self.call.account_sid, code, message, result.url,
                                      result.method, call_sid=self.call.sid,
                                      response_status=result.status, response_body=result.body)
                return max(length, 1)
            request = None
            for verb in document.verbs:
                if verb.tag in ("Say", "Play", "Pause"):
                    getattr(self, "verb_" + verb.tag.lower())(verb, document)
                    length += self.sim.verb_seconds(verb)
                elif verb.tag == "Leave":
                    raise LeaveQueue()
                elif verb.tag == "Hangup":
                    raise HangupRequested("completed")
                elif verb.tag == "Redirect":
                    request = self.verb_redirect(verb, document)
                    break
                elif verb.tag == "Gather":
                    request = yield from self.verb_gather(verb, document)
                    if request is not None:
                        break
            if request is None:
                return length
        return max(length, 1)


def _play_document(url: str):
    root = twiml.ET.Element("Response")
    play = twiml.ET.SubElement(root, "Play")
    play.text = url
    return root
