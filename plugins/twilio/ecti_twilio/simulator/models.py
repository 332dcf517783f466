"""In-memory resources of the simulated Twilio account, and their REST JSON shapes.

Every resource is a plain object owned by :class:`~ecti_twilio.simulator.core.Simulator`;
``to_json()`` renders it exactly as Twilio's 2010-04-01 API does (snake_case keys, RFC 2822
dates, ``uri`` relative to the API host, ``subresource_uris`` where Twilio has them).
"""
from __future__ import annotations

import email.utils
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

API_VERSION = "2010-04-01"
#: Twilio's default hold music for <Enqueue> and <Conference> when no waitUrl is given.
DEFAULT_HOLD_MUSIC = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"


def new_sid(prefix: str) -> str:
    """A Twilio-style SID: two-letter prefix + 32 lowercase hex digits."""
    return prefix + uuid.uuid4().hex


def rfc2822(moment: Optional[datetime]) -> Optional[str]:
    """Twilio's date format, e.g. ``Tue, 31 Aug 2010 20:36:28 +0000``."""
    return None if moment is None else email.utils.format_datetime(moment)


def account_path(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}"


@dataclass(eq=False)
class Account:
    sid: str
    auth_token: str
    friendly_name: str
    date_created: datetime

    def to_json(self) -> dict:
        base = account_path(self.sid)
        return {
            "auth_token": self.auth_token,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_created),
            "friendly_name": self.friendly_name,
            "owner_account_sid": self.sid,
            "sid": self.sid,
            "status": "active",
            "type": "Full",
            "uri": base + ".json",
            "subresource_uris": {
                name: f"{base}/{name.title().replace('_', '')}.json"
                for name in ("calls", "conferences", "queues", "recordings", "messages",
                             "incoming_phone_numbers", "applications", "keys", "notifications")
            },
        }


@dataclass(eq=False)
class PhoneNumber:
    """An IncomingPhoneNumber (``PN…``)."""

    sid: str
    account_sid: str
    phone_number: str
    friendly_name: str
    voice: bool
    sms: bool
    date_created: datetime
    date_updated: datetime
    voice_url: Optional[str] = None
    voice_method: str = "POST"
    voice_fallback_url: Optional[str] = None
    voice_fallback_method: str = "POST"
    voice_application_sid: str = ""
    status_callback: str = ""
    status_callback_method: str = "POST"
    sms_url: str = ""
    sms_method: str = "POST"
    sms_fallback_url: str = ""
    sms_fallback_method: str = "POST"

    #: REST parameter name → attribute, for updates.
    UPDATABLE = {
        "FriendlyName": "friendly_name", "VoiceUrl": "voice_url", "VoiceMethod": "voice_method",
        "VoiceFallbackUrl": "voice_fallback_url", "VoiceFallbackMethod": "voice_fallback_method",
        "VoiceApplicationSid": "voice_application_sid", "StatusCallback": "status_callback",
        "StatusCallbackMethod": "status_callback_method", "SmsUrl": "sms_url",
        "SmsMethod": "sms_method", "SmsFallbackUrl": "sms_fallback_url",
        "SmsFallbackMethod": "sms_fallback_method",
    }

    def to_json(self) -> dict:
        return {
            "account_sid": self.account_sid,
            "address_requirements": "none",
            "address_sid": None,
            "api_version": API_VERSION,
            "beta": False,
            "bundle_sid": None,
            "capabilities": {"fax": False, "mms": False, "sms": self.sms, "voice": self.voice},
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "emergency_address_sid": None,
            "emergency_address_status": "unregistered",
            "emergency_status": "Inactive",
            "friendly_name": self.friendly_name,
            "identity_sid": None,
            "origin": "twilio",
            "phone_number": self.phone_number,
            "sid": self.sid,
            "sms_application_sid": "",
            "sms_fallback_method": self.sms_fallback_method,
            "sms_fallback_url": self.sms_fallback_url,
            "sms_method": self.sms_method,
            "sms_url": self.sms_url,
            "status": "in-use",
            "status_callback": self.status_callback,
            "status_callback_method": self.status_callback_method,
            "subresource_uris": {
                "assigned_add_ons": f"{account_path(self.account_sid)}/IncomingPhoneNumbers/"
                                    f"{self.sid}/AssignedAddOns.json",
            },
            "trunk_sid": None,
            "type": "local",
            "uri": f"{account_path(self.account_sid)}/IncomingPhoneNumbers/{self.sid}.json",
            "voice_application_sid": self.voice_application_sid,
            "voice_caller_id_lookup": False,
            "voice_fallback_method": self.voice_fallback_method,
            "voice_fallback_url": self.voice_fallback_url,
            "voice_method": self.voice_method,
            "voice_receive_mode": "voice",
            "voice_url": self.voice_url,
        }


@dataclass(eq=False)
class Application:
    """A TwiML App (``AP…``): where calls placed from the browser SDK are sent."""

    sid: str
    account_sid: str
    friendly_name: str
    date_created: datetime
    date_updated: datetime
    voice_url: str = ""
    voice_method: str = "POST"
    voice_fallback_url: str = ""
    voice_fallback_method: str = "POST"
    status_callback: str = ""
    status_callback_method: str = "POST"
    sms_url: str = ""
    sms_method: str = "POST"

    UPDATABLE = {
        "FriendlyName": "friendly_name", "VoiceUrl": "voice_url", "VoiceMethod": "voice_method",
        "VoiceFallbackUrl": "voice_fallback_url", "VoiceFallbackMethod": "voice_fallback_method",
        "StatusCallback": "status_callback", "StatusCallbackMethod": "status_callback_method",
        "SmsUrl": "sms_url", "SmsMethod": "sms_method",
    }

    def to_json(self) -> dict:
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "friendly_name": self.friendly_name,
            "message_status_callback": None,
            "public_application_connect_enabled": False,
            "sid": self.sid,
            "sms_fallback_method": "POST",
            "sms_fallback_url": "",
            "sms_method": self.sms_method,
            "sms_status_callback": "",
            "sms_url": self.sms_url,
            "status_callback": self.status_callback,
            "status_callback_method": self.status_callback_method,
            "uri": f"{account_path(self.account_sid)}/Applications/{self.sid}.json",
            "voice_caller_id_lookup": False,
            "voice_fallback_method": self.voice_fallback_method,
            "voice_fallback_url": self.voice_fallback_url,
            "voice_method": self.voice_method,
            "voice_url": self.voice_url,
        }


@dataclass(eq=False)
class ApiKey:
    """An API key (``SK…``); its secret signs access tokens and authenticates REST calls."""

    sid: str
    account_sid: str
    secret: str
    friendly_name: str
    date_created: datetime
    date_updated: datetime

    def to_json(self, *, with_secret: bool = False) -> dict:
        data = {
            "sid": self.sid,
            "friendly_name": self.friendly_name,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
        }
        if with_secret:
            data["secret"] = self.secret
        return data


@dataclass(eq=False)
class Call:
    """One call leg (``CA…``) plus the simulator's runtime state for it."""

    sid: str
    account_sid: str
    from_: str
    to: str
    direction: str  # inbound | outbound-api | outbound-dial
    date_created: datetime
    status: str = "queued"
    parent_call_sid: Optional[str] = None
    phone_number_sid: Optional[str] = None
    date_updated: Optional[datetime] = None
    start_time: Optional[datetime] = None
    end_time: Optional[datetime] = None
    duration: Optional[int] = None
    # --- runtime state (not part of the REST shape) ---
    party: Any = None                      # the remote endpoint (Caller, Device or Phone)
    process: Any = None                    # generator running this leg's TwiML
    wait: Any = None                       # what the process is waiting for
    stepping: bool = False                 # the process is running right now
    pending_interrupt: Optional[BaseException] = None
    answered_at: Optional[float] = None    # virtual seconds
    ended: bool = False
    heard: list = field(default_factory=list)
    events: list = field(default_factory=list)
    custom_parameters: dict = field(default_factory=dict)
    status_callback: str = ""
    status_callback_method: str = "POST"
    status_callback_events: tuple = ()
    sequence_number: int = 0
    fallback_url: str = ""
    fallback_method: str = "POST"
    application_sid: str = ""
    bridge: Any = None                     # the Bridge this leg is in
    dial_parent: Optional["Call"] = None   # for outbound-dial legs: the call whose <Dial> rang it
    on_answer: Any = None                  # what to do when the remote party answers
    ring_timer: Any = None
    queue_member: Any = None
    participant: Any = None
    recording: Any = None                  # Record=true on Calls create: the live recording
    record_options: dict = field(default_factory=dict)
    request_params: dict = field(default_factory=dict)   # extra webhook parameters
    answer_request: Any = None             # the document an outbound-api leg runs on answer
    whisper: Any = None                    # <Number url> / <Client url>: runs before bridging
    whisper_done: bool = True
    ringing_devices: list = field(default_factory=list)
    pending_status: Optional[str] = None   # status chosen by <Hangup>/<Reject>
    ended_at: Optional[float] = None       # virtual seconds

    def to_json(self) -> dict:
        base = f"{account_path(self.account_sid)}/Calls/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated or self.date_created),
            "direction": self.direction,
            "duration": None if self.duration is None else str(self.duration),
            "end_time": rfc2822(self.end_time),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": self.parent_call_sid,
            "phone_number_sid": self.phone_number_sid,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": rfc2822(self.start_time),
            "status": self.status,
            "subresource_uris": {
                "notifications": base + "/Notifications.json",
                "recordings": base + "/Recordings.json",
            },
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": base + ".json",
        }


@dataclass(eq=False)
class Conference:
    sid: str
    account_sid: str
    friendly_name: str
    date_created: datetime
    date_updated: datetime
    status: str = "init"  # init | in-progress | completed
    participants: list = field(default_factory=list)
    status_callback: str = ""
    status_callback_method: str = "POST"
    status_callback_events: tuple = ()
    sequence_number: int = 0
    record: str = ""
    recording_status_callback: str = ""
    recording_status_callback_method: str = "POST"
    recording_status_callback_events: tuple = ("completed",)
    recording: Any = None
    reason_ended: Optional[str] = None

    def to_json(self) -> dict:
        base = f"{account_path(self.account_sid)}/Conferences/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid_ending_conference": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "friendly_name": self.friendly_name,
            "reason_conference_ended": self.reason_ended,
            "region": "jp1",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "participants": base + "/Participants.json",
                "recordings": base + "/Recordings.json",
            },
            "uri": base + ".json",
        }


@dataclass(eq=False)
class Participant:
    call: Call
    conference: Conference
    date_created: datetime
    date_updated: datetime
    label: Optional[str] = None
    muted: bool = False
    hold: bool = False
    #: Coaching (Twilio's "coach"): heard only by the participant ``call_sid_to_coach``.
    coaching: bool = False
    call_sid_to_coach: Optional[str] = None
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False
    status: str = "queued"  # queued | connecting | ringing | connected | complete | failed
    wait_url: Optional[str] = None
    wait_method: str = "POST"

    def to_json(self) -> dict:
        return {
            "account_sid": self.conference.account_sid,
            "call_sid": self.call.sid,
            "call_sid_to_coach": self.call_sid_to_coach,
            "coaching": self.coaching,
            "conference_sid": self.conference.sid,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "end_conference_on_exit": self.end_conference_on_exit,
            "hold": self.hold,
            "label": self.label,
            "muted": self.muted,
            "queue_time": "0",
            "start_conference_on_enter": self.start_conference_on_enter,
            "status": self.status,
            "uri": f"{account_path(self.conference.account_sid)}/Conferences/"
                   f"{self.conference.sid}/Participants/{self.call.sid}.json",
        }


@dataclass(eq=False)
class Queue:
    sid: str
    account_sid: str
    friendly_name: str
    date_created: datetime
    date_updated: datetime
    max_size: int = 1000
    members: list = field(default_factory=list)
    #: waiting times (seconds) of calls that left the queue, for average_wait_time
    wait_times: list = field(default_factory=list)
    #: calls whose <Dial><Queue> is waiting for somebody to enqueue
    dequeuers: list = field(default_factory=list)

    def average_wait_time(self) -> int:
        return int(sum(self.wait_times) / len(self.wait_times)) if self.wait_times else 0

    def to_json(self) -> dict:
        return {
            "account_sid": self.account_sid,
            "average_wait_time": self.average_wait_time(),
            "current_size": len(self.members),
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "friendly_name": self.friendly_name,
            "max_size": self.max_size,
            "sid": self.sid,
            "subresource_uris": {
                "members": f"{account_path(self.account_sid)}/Queues/{self.sid}/Members.json",
            },
            "uri": f"{account_path(self.account_sid)}/Queues/{self.sid}.json",
        }


@dataclass(eq=False)
class QueueMember:
    call: Call
    queue: Queue
    date_enqueued: datetime
    enqueued_at: float  # virtual seconds
    left_at: Optional[float] = None

    def to_json(self, now: float) -> dict:
        return {
            "call_sid": self.call.sid,
            "date_enqueued": rfc2822(self.date_enqueued),
            "position": self.queue.members.index(self) + 1 if self in self.queue.members else 0,
            "queue_sid": self.queue.sid,
            "uri": f"{account_path(self.queue.account_sid)}/Queues/{self.queue.sid}/Members/"
                   f"{self.call.sid}.json",
            "wait_time": int(now - self.enqueued_at),
        }


@dataclass(eq=False)
class Recording:
    sid: str
    account_sid: str
    call_sid: Optional[str]
    source: str  # RecordVerb | DialVerb | OutboundAPI | Conference
    channels: int
    date_created: datetime
    started_at: float  # virtual seconds
    conference_sid: Optional[str] = None
    status: str = "in-progress"  # in-progress | completed | absent | deleted
    duration: int = -1
    date_updated: Optional[datetime] = None
    status_callback: str = ""
    status_callback_method: str = "POST"
    status_callback_events: tuple = ("completed",)

    def to_json(self, api_base: str = "https://api.twilio.com") -> dict:
        base = f"{account_path(self.account_sid)}/Recordings/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid": self.call_sid,
            "channels": self.channels,
            "conference_sid": self.conference_sid,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated or self.date_created),
            "duration": str(self.duration),
            "encryption_details": None,
            "error_code": None,
            "media_url": f"{api_base}{base}",
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "source": self.source,
            "start_time": rfc2822(self.date_created),
            "status": self.status,
            "subresource_uris": {
                "add_on_results": base + "/AddOnResults.json",
                "transcriptions": base + "/Transcriptions.json",
            },
            "uri": base + ".json",
        }


@dataclass(eq=False)
class Message:
    sid: str
    account_sid: str
    from_: str
    to: str
    body: str
    direction: str  # inbound | outbound-api | outbound-reply
    date_created: datetime
    status: str = "queued"
    date_updated: Optional[datetime] = None
    date_sent: Optional[datetime] = None
    status_callback: str = ""
    error_code: Optional[int] = None
    error_message: Optional[str] = None

    @property
    def num_segments(self) -> int:
        # GSM-7 fits 160 characters (153 per part); anything else (Japanese) is UCS-2: 70 / 67.
        limit, part = (160, 153) if all(ord(c) < 128 for c in self.body) else (70, 67)
        return 1 if len(self.body) <= limit else -(-len(self.body) // part)

    def to_json(self) -> dict:
        base = f"{account_path(self.account_sid)}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated or self.date_created),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": base + "/Media.json",
                                 "feedback": base + "/Feedback.json"},
            "to": self.to,
            "uri": base + ".json",
        }


@dataclass(eq=False)
class Notification:
    """An entry of the account's debugger log (``NO…``), e.g. a failed webhook."""

    sid: str
    account_sid: str
    call_sid: Optional[str]
    error_code: int
    message: str
    url: str
    method: str
    date_created: datetime
    response_status: Optional[int] = None
    response_body: str = ""
    log: int = 0  # 0 error, 1 warning

    def to_json(self) -> dict:
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid": self.call_sid,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_created),
            "error_code": str(self.error_code),
            "log": str(self.log),
            "message_date": rfc2822(self.date_created),
            "message_text": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.error_code}",
            "request_method": self.method,
            "request_url": self.url,
            "sid": self.sid,
            "uri": f"{account_path(self.account_sid)}/Notifications/{self.sid}.json",
        }

    def as_dict(self) -> dict:
        """The shape of an entry in ``Simulator.errors``."""
        return {
            "sid": self.sid, "account_sid": self.account_sid, "call_sid": self.call_sid,
            "code": self.error_code, "message": self.message, "url": self.url,
            "method": self.method, "response_status": self.response_status,
            "response_body": self.response_body, "level": "warning" if self.log else "error",
        }
