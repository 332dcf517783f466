"""The REST API (``/2010-04-01/Accounts/{AccountSid}/…``) as a WSGI application.

Requests are form-encoded like Twilio's, authenticated with HTTP basic auth (AccountSid and
auth token, or an API key SID and secret of that account), and answered with Twilio's JSON
shapes, list envelopes and error bodies. Anything that changes a live call is queued for the
engine and answered at once, as Twilio does.
"""
from __future__ import annotations

import base64
import json
import re
import time
from typing import TYPE_CHECKING, Callable, Optional
from urllib.parse import urlencode

from webob import Request, Response

from . import audio
from .interpreter import DocumentRequest
from .models import PhoneNumber, account_path

if TYPE_CHECKING:  # pragma: no cover
    from .core import Simulator

E164 = re.compile(r"\+[1-9]\d{6,14}")


class ApiError(Exception):
    """A Twilio error response: ``{code, message, more_info, status}``."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        return _json({"code": self.code, "message": self.message,
                      "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                      "status": self.status}, self.status)


def _json(data, status: int = 200) -> Response:
    return Response(body=json.dumps(data).encode(), status=status,
                    content_type="application/json", charset="utf-8")


def not_found(what: str) -> ApiError:
    return ApiError(404, 20404, f"The requested resource {what} was not found")


def _flag(value: Optional[str]) -> bool:
    return (value or "").strip().lower() == "true"


def _events(request: Request, name: str, default: tuple) -> tuple:
    values = [part for value in request.POST.getall(name) for part in value.split()]
    return tuple(values) or default


class RestApi:
    """WSGI app serving Twilio's 2010-04-01 API from a :class:`Simulator`."""

    ROOT = r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})"

    def __init__(self, sim: "Simulator"):
        self.sim = sim
        r = self.ROOT
        self.routes: list[tuple[re.Pattern, dict[str, Callable]]] = [
            (rf"{r}\.json$", {"GET": self.fetch_account}),
            (rf"{r}/Calls\.json$", {"GET": self.list_calls, "POST": self.create_call}),
            (rf"{r}/Calls/(?P<sid>CA\w+)\.json$",
             {"GET": self.fetch_call, "POST": self.update_call, "DELETE": self.delete_call}),
            (rf"{r}/Calls/(?P<call>CA\w+)/Recordings\.json$", {"GET": self.list_recordings}),
            (rf"{r}/Calls/(?P<call>CA\w+)/Recordings/(?P<sid>RE\w+)\.json$",
             {"GET": self.fetch_recording, "POST": self.update_recording}),
            (rf"{r}/Calls/(?P<call>CA\w+)/Notifications\.json$",
             {"GET": self.list_notifications}),
            (rf"{r}/Conferences\.json$", {"GET": self.list_conferences}),
            (rf"{r}/Conferences/(?P<conference>[^/]+)\.json$",
             {"GET": self.fetch_conference, "POST": self.update_conference}),
            (rf"{r}/Conferences/(?P<conference>[^/]+)/Participants\.json$",
             {"GET": self.list_participants, "POST": self.create_participant}),
            (rf"{r}/Conferences/(?P<conference>[^/]+)/Participants/(?P<participant>[^/]+)\.json$",
             {"GET": self.fetch_participant, "POST": self.update_participant,
              "DELETE": self.delete_participant}),
            (rf"{r}/Conferences/(?P<conference_sid>CF\w+)/Recordings\.json$",
             {"GET": self.list_recordings}),
            (rf"{r}/Conferences/(?P<conference_sid>CF\w+)/Recordings/(?P<sid>RE\w+)\.json$",
             {"GET": self.fetch_recording, "POST": self.update_recording}),
            (rf"{r}/Queues\.json$", {"GET": self.list_queues, "POST": self.create_queue}),
            (rf"{r}/Queues/(?P<sid>QU\w+)\.json$",
             {"GET": self.fetch_queue, "POST": self.update_queue, "DELETE": self.delete_queue}),
            (rf"{r}/Queues/(?P<sid>QU\w+)/Members\.json$", {"GET": self.list_members}),
            (rf"{r}/Queues/(?P<sid>QU\w+)/Members/(?P<member>CA\w+|Front)\.json$",
             {"GET": self.fetch_member, "POST": self.update_member}),
            (rf"{r}/Recordings\.json$", {"GET": self.list_recordings}),
            (rf"{r}/Recordings/(?P<sid>RE\w+)\.json$",
             {"GET": self.fetch_recording, "DELETE": self.delete_recording}),
            (rf"{r}/Recordings/(?P<sid>RE[0-9a-fA-F]+)(?P<ext>\.wav|\.mp3)?$",
             {"GET": self.recording_media}),
            (rf"{r}/Messages\.json$", {"GET": self.list_messages, "POST": self.create_message}),
            (rf"{r}/Messages/(?P<sid>SM\w+)\.json$",
             {"GET": self.fetch_message, "DELETE": self.delete_message}),
            (rf"{r}/IncomingPhoneNumbers\.json$",
             {"GET": self.list_numbers, "POST": self.create_number}),
            (rf"{r}/IncomingPhoneNumbers/(?P<sid>PN\w+)\.json$",
             {"GET": self.fetch_number, "POST": self.update_number,
              "DELETE": self.delete_number}),
            (rf"{r}/Applications\.json$",
             {"GET": self.list_applications, "POST": self.create_application}),
            (rf"{r}/Applications/(?P<sid>AP\w+)\.json$",
             {"GET": self.fetch_application, "POST": self.update_application,
              "DELETE": self.delete_application}),
            (rf"{r}/Keys\.json$", {"GET": self.list_keys, "POST": self.create_key}),
            (rf"{r}/Keys/(?P<sid>SK\w+)\.json$",
             {"GET": self.fetch_key, "POST": self.update_key, "DELETE": self.delete_key}),
            (rf"{r}/Notifications\.json$", {"GET": self.list_notifications}),
        ]
        self.routes = [(re.compile(pattern), handlers) for pattern, handlers in self.routes]

    # --- plumbing ----------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        if self.sim.rest_latency > 0:
            time.sleep(self.sim.rest_latency)  # a real carrier's round trip, never under the lock
        try:
            response = self.dispatch(request)
        except ApiError as error:
            response = error.response()
        with self.sim.lock:
            self.sim.rest_log.append({"method": request.method, "path": request.path_info,
                                      "params": dict(request.POST.items()) if request.method == "POST" else {},
                                      "status": response.status_code})
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        for pattern, handlers in self.routes:
            match = pattern.match(request.path_info)
            if match is None:
                continue
            args = match.groupdict()
            account_sid = args.pop("account")
            if not (handlers.get(request.method) == self.recording_media
                    and not self.sim.media_requires_auth):
                self.authenticate(request, account_sid)
            handler = handlers.get(request.method)
            if handler is None:
                raise ApiError(405, 20004, "Method not allowed")
            with self.sim.lock:
                return handler(request, account_sid, **args)
        raise not_found(request.path_info)

    def authenticate(self, request: Request, account_sid: str) -> None:
        """HTTP basic auth: the account's SID and token, or one of its API keys and secret."""
        header = request.headers.get("Authorization", "")
        username = password = ""
        if header.lower().startswith("basic "):
            try:
                username, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                pass
        account = self.sim.accounts.get(account_sid)
        key = self.sim.keys.get(username)
        if account is not None and (
                (username == account_sid and password == account.auth_token)
                or (key is not None and key.account_sid == account_sid
                    and password == key.secret)):
            return
        raise ApiError(401, 20003, "Authenticate")

    def page(self, request: Request, items: list, key: str, path: str) -> Response:
        """Twilio's list envelope: the records under ``key`` plus the paging fields."""
        try:
            size = max(1, min(1000, int(request.GET.get("PageSize", 50))))
            number = max(0, int(request.GET.get("Page", 0)))
        except ValueError:
            raise ApiError(400, 20001, "Invalid paging parameter") from None
        filters = [(k, v) for k, v in request.GET.items()
                   if k not in ("Page", "PageSize", "PageToken")]

        def uri(page_number: int) -> str:
            return path + "?" + urlencode(filters + [("PageSize", size), ("Page", page_number)])

        start = number * size
        chunk = items[start:start + size]
        return _json({
            key: chunk,
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": uri(0),
            "next_page_uri": uri(number + 1) if start + size < len(items) else None,
            "page": number,
            "page_size": size,
            "previous_page_uri": uri(number - 1) if number > 0 else None,
            "start": start,
            "uri": uri(number),
        })

    @staticmethod
    def _require(request: Request, *names: str, code: int = 21201) -> None:
        for name in names:
            if not request.POST.get(name):
                raise ApiError(400, code, f"Missing required parameter {name} in the post body")

    def _owned(self, store: dict, account_sid: str, sid: str, what: str):
        item = store.get(sid)
        if item is None or item.account_sid != account_sid:
            raise not_found(f"{what} {sid}")
        return item

    # --- accounts ------------------------------------------------------------------------------
    def fetch_account(self, request, account_sid):
        return _json(self.sim.accounts[account_sid].to_json())

    # --- calls ---------------------------------------------------------------------------------
    def list_calls(self, request, account_sid):
        calls = [c for c in reversed(list(self.sim.calls.values()))
                 if c.account_sid == account_sid]
        for param, attribute in (("To", "to"), ("From", "from_"), ("Status", "status"),
                                 ("ParentCallSid", "parent_call_sid")):
            if request.GET.get(param):
                calls = [c for c in calls if getattr(c, attribute) == request.GET[param]]
        return self.page(request, [c.to_json() for c in calls], "calls",
                         f"{account_path(account_sid)}/Calls.json")

    def create_call(self, request, account_sid):
        post = request.POST
        if not post.get("To"):
            raise ApiError(400, 21201, "No 'To' number is specified")
        if not post.get("From"):
            raise ApiError(400, 21213, "No 'From' number is specified")
        to, from_ = post["To"].strip(), post["From"].strip()
        if not (E164.fullmatch(to) or to.startswith(("client:", "sip:"))):
            raise ApiError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        owned = {n.phone_number for n in self.sim.account_numbers(account_sid) if n.voice}
        if from_ not in owned and not from_.startswith("client:"):
            raise ApiError(400, 21210, f"The source phone number provided, {from_}, is not yet "
                                       "verified for your account.")
        if post.get("Twiml"):
            document = DocumentRequest(twiml=post["Twiml"])
        elif post.get("Url"):
            document = DocumentRequest(post["Url"], (post.get("Method") or "POST").upper())
        elif post.get("ApplicationSid") in self.sim.applications:
            app = self.sim.applications[post["ApplicationSid"]]
            document = DocumentRequest(app.voice_url, app.voice_method)
        else:
            raise ApiError(400, 21205, "Url parameter is required.")
        document.fallback_url = post.get("FallbackUrl", "")
        document.fallback_method = (post.get("FallbackMethod") or "POST").upper()
        record = None
        if _flag(post.get("Record")):
            record = {"channels": 2 if post.get("RecordingChannels") == "dual" else 1,
                      "callback": post.get("RecordingStatusCallback", ""),
                      "callback_method": (post.get("RecordingStatusCallbackMethod")
                                          or "POST").upper(),
                      "callback_events": _events(request, "RecordingStatusCallbackEvent",
                                                 ("completed",))}
        call = self.sim.create_api_call(
            account_sid, to, from_, document,
            status_callback=post.get("StatusCallback", ""),
            status_callback_method=(post.get("StatusCallbackMethod") or "POST").upper(),
            status_callback_events=_events(request, "StatusCallbackEvent", ("completed",)),
            timeout=int(post.get("Timeout") or 60), record=record)
        return _json(call.to_json(), 201)

    def _call(self, account_sid, sid):
        return self._owned(self.sim.calls, account_sid, sid, "Call")

    def fetch_call(self, request, account_sid, sid):
        return _json(self._call(account_sid, sid).to_json())

    def update_call(self, request, account_sid, sid):
        call = self._call(account_sid, sid)
        post = request.POST
        if call.ended:
            raise ApiError(400, 21220, "Call is not in-progress. Cannot redirect.")
        status = post.get("Status")
        if status in ("completed", "canceled"):
            if status == "canceled" and call.answered_at is not None:
                return _json(call.to_json())  # canceling an answered call does nothing
            self.sim.engine.submit(self.sim.hangup, call, status)
        elif post.get("Twiml") or post.get("Url"):
            document = (DocumentRequest(twiml=post["Twiml"]) if post.get("Twiml")
                        else DocumentRequest(post["Url"], (post.get("Method") or "POST").upper(),
                                             fallback_url=post.get("FallbackUrl", ""),
                                             kind="redirect"))
            self.sim.engine.submit(self.sim.redirect, call, document)
        elif status:
            raise ApiError(400, 21218, f"Invalid Status {status!r}")
        return _json(call.to_json())

    def delete_call(self, request, account_sid, sid):
        call = self._call(account_sid, sid)
        if not call.ended:
            raise ApiError(400, 21220, "Call is in-progress. Cannot delete.")
        del self.sim.calls[sid]
        return Response(status=204)

    # --- conferences ---------------------------------------------------------------------------
    def _conference(self, account_sid, key, create_options: Optional[dict] = None):
        conference = self.sim.conferences.get(key)
        if conference is None and not re.fullmatch(r"CF[0-9a-fA-F]{32}", key):
            conference = self.sim.active_conference(account_sid, key)
            if conference is None and create_options is not None:
                conference = self.sim.conference_for(account_sid, key, create_options)
        if conference is None or conference.account_sid != account_sid:
            raise not_found(f"Conference {key}")
        return conference

    def list_conferences(self, request, account_sid):
        items = [c for c in reversed(list(self.sim.conferences.values()))
                 if c.account_sid == account_sid]
        if request.GET.get("FriendlyName"):
            items = [c for c in items if c.friendly_name == request.GET["FriendlyName"]]
        if request.GET.get("Status"):
            items = [c for c in items if c.status == request.GET["Status"]]
        return self.page(request, [c.to_json() for c in items], "conferences",
                         f"{account_path(account_sid)}/Conferences.json")

    def fetch_conference(self, request, account_sid, conference):
        return _json(self._conference(account_sid, conference).to_json())

    def update_conference(self, request, account_sid, conference):
        conference = self._conference(account_sid, conference)
        post = request.POST
        if post.get("Status") == "completed":
            self.sim.engine.submit(self.sim.end_conference, conference,
                                   "conference-ended-via-api")
        if post.get("AnnounceUrl"):
            for participant in list(conference.participants):
                self.sim.engine.submit(self.sim.play_media, participant.call,
                                       post["AnnounceUrl"],
                                       (post.get("AnnounceMethod") or "POST").upper())
        return _json(conference.to_json())

    def list_participants(self, request, account_sid, conference):
        conference = self._conference(account_sid, conference)
        items = list(conference.participants)
        for param, attribute in (("Muted", "muted"), ("Hold", "hold")):
            if request.GET.get(param):
                items = [p for p in items if getattr(p, attribute) == _flag(request.GET[param])]
        return self.page(request, [p.to_json() for p in items], "participants",
                         f"{account_path(account_sid)}/Conferences/{conference.sid}"
                         "/Participants.json")

    def create_participant(self, request, account_sid, conference):
        post = request.POST
        self._require(request, "From", "To")
        options = {
            "start_on_enter": post.get("StartConferenceOnEnter", "true").lower() != "false",
            "end_on_exit": _flag(post.get("EndConferenceOnExit")),
            "muted": _flag(post.get("Muted")),
            "coach": self._coach(post) if _flag(post.get("Coaching")) else None,
            "wait_url": post.get("WaitUrl", ""),
            "wait_method": (post.get("WaitMethod") or "POST").upper(),
            "label": post.get("Label"),
            "status_callback": post.get("ConferenceStatusCallback", ""),
            "status_callback_method": (post.get("ConferenceStatusCallbackMethod")
                                       or "POST").upper(),
            "status_callback_events": _events(request, "ConferenceStatusCallbackEvent",
                                              ("start", "end")),
            "record": post.get("ConferenceRecord", ""),
            "recording_status_callback": post.get("ConferenceRecordingStatusCallback", ""),
            "recording_status_callback_method":
                (post.get("ConferenceRecordingStatusCallbackMethod") or "POST").upper(),
            "recording_status_callback_events":
                _events(request, "ConferenceRecordingStatusCallbackEvent", ("completed",)),
        }
        conference = self._conference(account_sid, conference, options)
        if conference.status == "completed":
            raise not_found(f"Conference {conference.sid}")
        options["name"] = conference.friendly_name
        to = post["To"].strip()
        if not (E164.fullmatch(to) or to.startswith(("client:", "sip:"))):
            raise ApiError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        participant = self.sim.create_participant(
            conference, to, post["From"].strip(), options,
            status_callback=post.get("StatusCallback", ""),
            status_callback_method=(post.get("StatusCallbackMethod") or "POST").upper(),
            status_callback_events=_events(request, "StatusCallbackEvent", ("completed",)),
            timeout=int(post.get("Timeout") or 60))
        return _json(participant.to_json(), 201)

    @staticmethod
    def _coach(post) -> str:
        """The CallSidToCoach a coaching participant needs (Twilio refuses coaching without)."""
        coached = (post.get("CallSidToCoach") or "").strip()
        if not re.fullmatch(r"CA[0-9a-fA-F]{32}", coached):
            raise ApiError(400, 21220, "CallSidToCoach is required when Coaching is true")
        return coached

    def _participant(self, account_sid, conference, key):
        conference = self._conference(account_sid, conference)
        participant = self.sim.participant(conference, key)
        if participant is None:
            raise not_found(f"Participant {key}")
        return participant

    def fetch_participant(self, request, account_sid, conference, participant):
        return _json(self._participant(account_sid, conference, participant).to_json())

    def update_participant(self, request, account_sid, conference, participant):
        participant = self._participant(account_sid, conference, participant)
        params = {k: v for k, v in request.POST.items()}
        if _flag(params.get("Coaching")):
            params["CallSidToCoach"] = self._coach(
                {"CallSidToCoach": params.get("CallSidToCoach") or participant.call_sid_to_coach})
        self.sim.engine.submit(self.sim.update_participant, participant, params)
        data = participant.to_json()
        for param, key in (("Hold", "hold"), ("Muted", "muted"), ("Coaching", "coaching"),
                           ("EndConferenceOnExit", "end_conference_on_exit")):
            if param in params:
                data[key] = _flag(params[param])
        if "Coaching" in params:
            data["call_sid_to_coach"] = params.get("CallSidToCoach") if data["coaching"] else None
        return _json(data)

    def delete_participant(self, request, account_sid, conference, participant):
        participant = self._participant(account_sid, conference, participant)
        self.sim.engine.submit(self.sim.remove_participant, participant)
        return Response(status=204)

    # --- queues --------------------------------------------------------------------------------
    def list_queues(self, request, account_sid):
        items = [q.to_json() for q in self.sim.queues.values() if q.account_sid == account_sid]
        return self.page(request, items, "queues", f"{account_path(account_sid)}/Queues.json")

    def create_queue(self, request, account_sid):
        post = request.POST
        if not post.get("FriendlyName"):
            raise ApiError(400, 21201, "Missing required parameter FriendlyName")
        if self.sim.find_queue(account_sid, post["FriendlyName"]) is not None:
            raise ApiError(400, 22003, f"A queue named {post['FriendlyName']!r} already exists")
        queue = self.sim.get_or_create_queue(account_sid, post["FriendlyName"],
                                             int(post.get("MaxSize") or 1000))
        return _json(queue.to_json(), 201)

    def _queue(self, account_sid, sid):
        return self._owned(self.sim.queues, account_sid, sid, "Queue")

    def fetch_queue(self, request, account_sid, sid):
        return _json(self._queue(account_sid, sid).to_json())

    def update_queue(self, request, account_sid, sid):
        queue = self._queue(account_sid, sid)
        if request.POST.get("FriendlyName"):
            queue.friendly_name = request.POST["FriendlyName"]
        if request.POST.get("MaxSize"):
            queue.max_size = int(request.POST["MaxSize"])
        queue.date_updated = self.sim.clock.now()
        return _json(queue.to_json())

    def delete_queue(self, request, account_sid, sid):
        queue = self._queue(account_sid, sid)
        if queue.members:
            raise ApiError(400, 22004, "Cannot delete a queue that has members")
        del self.sim.queues[sid]
        return Response(status=204)

    def list_members(self, request, account_sid, sid):
        queue = self._queue(account_sid, sid)
        now = self.sim.clock.seconds
        return self.page(request, [m.to_json(now) for m in queue.members], "queue_members",
                         f"{account_path(account_sid)}/Queues/{sid}/Members.json")

    def _member(self, account_sid, sid, member):
        queue = self._queue(account_sid, sid)
        found = (queue.members[0] if queue.members else None) if member == "Front" else next(
            (m for m in queue.members if m.call.sid == member), None)
        if found is None:
            raise not_found(f"Queue member {member}")
        return found

    def fetch_member(self, request, account_sid, sid, member):
        return _json(self._member(account_sid, sid, member).to_json(self.sim.clock.seconds))

    def update_member(self, request, account_sid, sid, member):
        found = self._member(account_sid, sid, member)
        if not request.POST.get("Url"):
            raise ApiError(400, 21205, "Url parameter is required.")
        data = found.to_json(self.sim.clock.seconds)
        self.sim.engine.submit(self.sim.redirect, found.call, DocumentRequest(
            request.POST["Url"], (request.POST.get("Method") or "POST").upper(),
            kind="redirect"))
        return _json(data)

    # --- recordings ----------------------------------------------------------------------------
    def list_recordings(self, request, account_sid, call=None, conference_sid=None):
        items = [r for r in reversed(list(self.sim.recordings.values()))
                 if r.account_sid == account_sid]
        call = call or request.GET.get("CallSid")
        conference_sid = conference_sid or request.GET.get("ConferenceSid")
        if call:
            items = [r for r in items if r.call_sid == call]
        if conference_sid:
            items = [r for r in items if r.conference_sid == conference_sid]
        return self.page(request, [r.to_json(self.sim.api_base) for r in items], "recordings",
                         request.path_info)

    def _recording(self, account_sid, sid):
        return self._owned(self.sim.recordings, account_sid, sid, "Recording")

    def fetch_recording(self, request, account_sid, sid, call=None, conference_sid=None):
        return _json(self._recording(account_sid, sid).to_json(self.sim.api_base))

    def update_recording(self, request, account_sid, sid, call=None, conference_sid=None):
        """Status=stopped ends a call's or conference's recording now (paused and in-progress
        are not simulated: 400)."""
        recording = self._recording(account_sid, sid)
        if (call and recording.call_sid != call) or (conference_sid and recording.conference_sid != conference_sid):
            raise not_found(f"Recording {sid}")
        status = request.POST.get("Status", "")
        if status != "stopped":
            raise ApiError(400, 21220 if not status else 20001, f"Status {status!r} is not supported by the simulator")
        if recording.status != "in-progress":
            raise ApiError(400, 21220, "Recording is not in progress")
        self.sim.engine.submit(self.sim.finish_recording, recording)
        data = recording.to_json(self.sim.api_base)
        data["status"] = "stopped"
        return _json(data)

    def delete_recording(self, request, account_sid, sid):
        self._recording(account_sid, sid)
        del self.sim.recordings[sid]
        return Response(status=204)

    def recording_media(self, request, account_sid, sid, ext=None):
        recording = self._recording(account_sid, sid)
        if recording.status != "completed":
            raise not_found(f"Recording media {sid}")
        if ext == ".mp3":
            body, content_type = audio.mp3_bytes(recording.duration), "audio/mpeg"
        else:
            channels = recording.channels
            if recording.source == "Conference" and request.GET.get("RequestedChannels") != "2":
                channels = 1  # conference recordings are down-mixed unless asked otherwise
            body = audio.wav_bytes(recording.duration, channels)
            content_type = "audio/x-wav"
        return Response(body=body, content_type=content_type)

    # --- messages ------------------------------------------------------------------------------
    def list_messages(self, request, account_sid):
        items = [m for m in reversed(list(self.sim.messages.values()))
                 if m.account_sid == account_sid]
        for param, attribute in (("To", "to"), ("From", "from_")):
            if request.GET.get(param):
                items = [m for m in items if getattr(m, attribute) == request.GET[param]]
        return self.page(request, [m.to_json() for m in items], "messages",
                         f"{account_path(account_sid)}/Messages.json")

    def create_message(self, request, account_sid):
        post = request.POST
        if not post.get("To"):
            raise ApiError(400, 21604, "A 'To' phone number is required.")
        if not post.get("From"):
            raise ApiError(400, 21603, "A 'From' phone number is required.")
        if not post.get("Body"):
            raise ApiError(400, 21602, "Message body is required.")
        to, from_ = post["To"].strip(), post["From"].strip()
        if not E164.fullmatch(to):
            raise ApiError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not any(n.phone_number == from_ and n.sms
                   for n in self.sim.account_numbers(account_sid)):
            raise ApiError(400, 21606, f"The From phone number {from_} is not a valid, "
                                       "SMS-capable inbound phone number or short code for "
                                       "your account.")
        message = self.sim.create_message(account_sid, from_, to, post["Body"],
                                          post.get("StatusCallback", ""))
        return _json(message.to_json(), 201)

    def fetch_message(self, request, account_sid, sid):
        return _json(self._owned(self.sim.messages, account_sid, sid, "Message").to_json())

    def delete_message(self, request, account_sid, sid):
        self._owned(self.sim.messages, account_sid, sid, "Message")
        del self.sim.messages[sid]
        return Response(status=204)

    # --- phone numbers -------------------------------------------------------------------------
    def list_numbers(self, request, account_sid):
        items = self.sim.account_numbers(account_sid)
        if request.GET.get("PhoneNumber"):
            items = [n for n in items if n.phone_number == request.GET["PhoneNumber"]]
        if request.GET.get("FriendlyName"):
            items = [n for n in items if n.friendly_name == request.GET["FriendlyName"]]
        return self.page(request, [n.to_json() for n in items], "incoming_phone_numbers",
                         f"{account_path(account_sid)}/IncomingPhoneNumbers.json")

    def create_number(self, request, account_sid):
        """Buying a number: any E.164 number nobody has yet, with voice and SMS."""
        phone_number = request.POST.get("PhoneNumber", "")
        if not E164.fullmatch(phone_number):
            raise ApiError(400, 21421, "PhoneNumber is invalid.")
        if self.sim.number_by_phone(phone_number) is not None:
            raise ApiError(400, 21422, "PhoneNumber is not available.")
        number = self.sim.add_number(account_sid, phone_number, voice=True, sms=True,
                                     friendly_name=request.POST.get("FriendlyName", ""))
        self._apply(number, request, PhoneNumber.UPDATABLE)
        return _json(number.to_json(), 201)

    def _apply(self, resource, request, fields: dict) -> None:
        for param, attribute in fields.items():
            if param in request.POST:
                value = request.POST[param]
                setattr(resource, attribute, value.upper() if param.endswith("Method") else value)
        resource.date_updated = self.sim.clock.now()

    def fetch_number(self, request, account_sid, sid):
        return _json(self._owned(self.sim.numbers, account_sid, sid,
                                 "IncomingPhoneNumber").to_json())

    def update_number(self, request, account_sid, sid):
        number = self._owned(self.sim.numbers, account_sid, sid, "IncomingPhoneNumber")
        self._apply(number, request, PhoneNumber.UPDATABLE)
        return _json(number.to_json())

    def delete_number(self, request, account_sid, sid):
        self._owned(self.sim.numbers, account_sid, sid, "IncomingPhoneNumber")
        del self.sim.numbers[sid]
        return Response(status=204)

    # --- applications --------------------------------------------------------------------------
    def list_applications(self, request, account_sid):
        items = [a for a in self.sim.applications.values() if a.account_sid == account_sid]
        if request.GET.get("FriendlyName"):
            items = [a for a in items if a.friendly_name == request.GET["FriendlyName"]]
        return self.page(request, [a.to_json() for a in items], "applications",
                         f"{account_path(account_sid)}/Applications.json")

    def create_application(self, request, account_sid):
        app = self.sim.add_application(account_sid,
                                       friendly_name=request.POST.get("FriendlyName", ""))
        self._apply(app, request, type(app).UPDATABLE)
        return _json(app.to_json(), 201)

    def fetch_application(self, request, account_sid, sid):
        return _json(self._owned(self.sim.applications, account_sid, sid,
                                 "Application").to_json())

    def update_application(self, request, account_sid, sid):
        app = self._owned(self.sim.applications, account_sid, sid, "Application")
        self._apply(app, request, type(app).UPDATABLE)
        return _json(app.to_json())

    def delete_application(self, request, account_sid, sid):
        self._owned(self.sim.applications, account_sid, sid, "Application")
        del self.sim.applications[sid]
        return Response(status=204)

    # --- keys ----------------------------------------------------------------------------------
    def list_keys(self, request, account_sid):
        items = [k.to_json() for k in self.sim.keys.values() if k.account_sid == account_sid]
        return self.page(request, items, "keys", f"{account_path(account_sid)}/Keys.json")

    def create_key(self, request, account_sid):
        key = self.sim.add_key(account_sid, request.POST.get("FriendlyName", ""))
        return _json(key.to_json(with_secret=True), 201)

    def fetch_key(self, request, account_sid, sid):
        return _json(self._owned(self.sim.keys, account_sid, sid, "Key").to_json())

    def update_key(self, request, account_sid, sid):
        key = self._owned(self.sim.keys, account_sid, sid, "Key")
        if "FriendlyName" in request.POST:
            key.friendly_name = request.POST["FriendlyName"]
            key.date_updated = self.sim.clock.now()
        return _json(key.to_json())

    def delete_key(self, request, account_sid, sid):
        self._owned(self.sim.keys, account_sid, sid, "Key")
        del self.sim.keys[sid]
        return Response(status=204)

    # --- notifications -------------------------------------------------------------------------
    def list_notifications(self, request, account_sid, call=None):
        items = [n for n in reversed(list(self.sim.notifications.values()))
                 if n.account_sid == account_sid and (call is None or n.call_sid == call)]
        return self.page(request, [n.to_json() for n in items], "notifications",
                         request.path_info)

