"""What the objects returned by registration hooks must look like.

These are :class:`typing.Protocol` classes: a plugin does not inherit from them, it only
provides the attributes and methods. Every object has a stable ``name`` (stored in the
database, ASCII, ``snake_case``) and a ``label`` shown to people (a translation string).
The subsystems that use them (ACD, prompts, CRM, notifications, carriers, IVR) document how and
when each method is called; :mod:`ecti.hookspecs` documents the hooks that return them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, Sequence, runtime_checkable


@dataclass(frozen=True)
class RoutingCandidate:
    """A free agent that may be offered a call, with the figures strategies order by."""

    agent_id: int
    level: int = 0
    member_order: int = 0
    idle_since: datetime | None = None
    calls_today: int = 0
    talk_seconds_today: int = 0


@runtime_checkable
class RoutingStrategy(Protocol):
    name: str
    label: Any

    def order(self, candidates: Sequence[RoutingCandidate], *, queue: Any, cursor: int | None) -> Sequence[RoutingCandidate]:
        """Return the candidates in the order they should be offered the call.

        ``cursor`` is the strategy's persisted position for this queue (round robin), or None.
        Return an empty sequence to offer the call to nobody now.
        """


@dataclass(frozen=True)
class VoiceSettings:
    """How a prompt is spoken (F-IVR-6); ranges and emotion presets: :mod:`ecti.prompts.voice`."""

    voice: str = ""  # the provider's voice name; "" for its default voice
    speed: float = 1.0  # × the natural rate
    pitch: float = 0.0  # semitones
    intonation: float = 1.0  # × the natural pitch movement (抑揚)
    volume: float = 0.0  # dB
    emotion: str = "normal"  # normal, joy, sadness, anger


@runtime_checkable
class TTSProvider(Protocol):
    name: str
    label: Any
    #: ``"carrier"``: ``render`` returns a ``Say`` the carrier speaks; ``"audio"``: audio bytes
    #: ECTI caches and plays from a signed URL.
    output: str
    #: ``(voice name, label)`` pairs; the first is the default voice.
    voices: Sequence[tuple[str, Any]]

    def validate(self, text: str, settings: VoiceSettings) -> None:
        """Raise :class:`ecti.errors.UserError` when this text or these settings cannot be spoken."""

    def render(self, text: str, settings: VoiceSettings) -> Any:
        """Return what the carrier plays: a :class:`ecti.voice.instructions.Say` (or plain
        text) for ``output == "carrier"``, the bytes of an audio file for ``"audio"``."""


@dataclass(frozen=True)
class CRMContact:
    """A caller found in a CRM."""

    display_name: str
    record_id: str | None = None
    record_url: str | None = None
    extra: dict = field(default_factory=dict)


@runtime_checkable
class CRMConnector(Protocol):
    name: str
    label: Any

    def lookup(self, request: Any, tenant: Any, number: str) -> CRMContact | None:
        """Find the caller with this E.164 number, or return None."""


@dataclass(frozen=True)
class Notification:
    """Something a person should be told about, in their language."""

    tenant_id: int
    kind: str
    recipients: Sequence[str]
    subject: Any
    body: Any
    link: str | None = None
    #: ``(filename, content type, bytes)``, e.g. a voicemail message as WAV.
    attachments: Sequence[tuple[str, str, bytes]] = ()
    #: The recipients' language: translate ``subject`` and ``body`` with it ("ja" or "en").
    locale: str = "ja"


@runtime_checkable
class NotificationChannel(Protocol):
    name: str
    label: Any

    def deliver(self, notification: Notification, *, registry: Any) -> None:
        """Deliver or raise; a raised error is retried later and shown to the admin."""


@runtime_checkable
class Carrier(Protocol):
    name: str
    label: Any

    def check_credentials(self, *, registry: Any, account_id: str, secret: str) -> None:
        """Raise :class:`ecti.errors.UserError` when the carrier refuses these credentials."""


@dataclass(frozen=True)
class SentMessage:
    """A carrier's answer when it has accepted an SMS."""

    carrier_message_id: str
    #: The message's status as the carrier reports it (a ``MessageStatus`` value, e.g. "queued").
    status: str = "queued"


class CarrierRefused(Exception):
    """The carrier refused to send: ``carrier_code`` is its own error code (Twilio "21606"),
    ``message`` a translatable explanation for people (or None), ``detail`` its own words."""

    def __init__(self, carrier_code: str | None, message: Any = None, *, detail: str = ""):
        super().__init__(detail or str(message))
        self.carrier_code = carrier_code
        self.message = message
        self.detail = detail


@runtime_checkable
class SmsCarrier(Protocol):
    """A :class:`Carrier` that also sends SMS (F-PH-8); ``ecti.messaging`` uses these methods."""

    def send_sms(self, *, request: Any, tenant: Any, from_number: str, to_number: str, body: str, reference: str) -> SentMessage:
        """Hand one SMS to the carrier and return at once (no waiting for delivery).

        The numbers are E.164 and already checked (``from_number`` is an SMS-capable number of
        ``tenant``). ``reference`` is ECTI's id for the stored message: status reports must bring
        it back (Twilio: in the StatusCallback URL), because they may arrive before this method
        returns. Raise :class:`CarrierRefused` when the carrier refuses; the message is then
        marked failed with its code. Any other exception means "the carrier could not be reached".
        """

    def sms_error_message(self, code: str) -> Any:
        """A translatable explanation of one of the carrier's SMS error codes, or None."""


@dataclass
class RecordingMedia:
    """A recording's audio as the carrier serves it: ``chunks`` yields the bytes in order
    (``length`` of them when known); ``close()`` releases the connection."""

    content_type: str
    length: int | None
    chunks: Any
    close: Any = None


class RecordingNotFound(Exception):
    """The carrier no longer has this recording (or its media)."""


@runtime_checkable
class RecordingCarrier(Protocol):
    """A :class:`Carrier` that keeps recordings (F-REC-2): ECTI fetches and deletes them with
    the tenant's credentials and never shows the carrier's URL to anyone."""

    def fetch_recording(self, *, registry: Any, tenant: Any, carrier_recording_id: str, media_format: str, channels: int | None = None) -> RecordingMedia:
        """Start streaming the media of a recording; ``media_format`` is ``wav`` or ``mp3``.

        Raise :class:`RecordingNotFound` when the carrier has no such recording; any other
        exception means the carrier could not be reached.
        """

    # Optional: def stop_recording(self, *, registry, tenant, carrier_recording_id,
    # carrier_call_id=None, conference_id=None) -> None — end a live call or conference
    # recording now (ECTI stops recordings at an hour, F-REC-1).

    def delete_recording(self, *, registry: Any, tenant: Any, carrier_recording_id: str) -> None:
        """Delete a recording at the carrier. A recording the carrier no longer has counts as
        deleted; raise when the carrier refuses or cannot be reached."""


@runtime_checkable
class HolidayCalendar(Protocol):
    name: str
    label: Any

    def holidays(self, start: date, end: date) -> dict[date, str]:
        """Return the closed dates between ``start`` and ``end`` inclusive, with their names."""


@runtime_checkable
class IVRNodeType(Protocol):
    """A kind of step in an IVR flow (see ``docs/ivr.md``).

    Optional members: ``resume(ctx, settings, call_input)`` (below) for nodes whose ``run``
    comes back through ``ctx.here()``; ``check(settings, checker) -> list`` for checks a JSON
    Schema cannot express (return messages; ``checker`` is an
    :class:`ecti.ivr.validation.ReferenceChecker`); ``required_exits(settings)`` for exits that
    must lead somewhere; ``collects_input = True`` for nodes that wait for the caller's input,
    the only kind that may close a loop.
    """

    name: str
    label: Any
    #: JSON Schema of the node's settings, used to validate flows before they are saved.
    #: A property with ``"x-ecti-ref": KIND`` holds the id of a schedule, voicemail box, queue…;
    #: one with ``"x-ecti-prompt": true`` holds a prompt reference.
    settings_schema: dict

    def exits(self, settings: dict) -> Sequence[str]:
        """The names of the node's outgoing edges (e.g. ``["next"]`` or menu digits)."""

    def run(self, ctx: Any, settings: dict) -> Any:
        """A call reaches the node: return an :class:`ecti.ivr.engine.NodeOutcome`.

        ``ctx`` is an :class:`ecti.ivr.engine.NodeContext` (request, call, tenant, flow, node,
        clock, prompt and continuation helpers). Follow an exit, or return instructions that
        end the call or come back to :meth:`resume` through ``ctx.here()``.
        """

    # Optional: def resume(self, ctx, settings, call_input) -> NodeOutcome — the carrier came
    # back to ``ctx.here()`` with ``call_input`` (:class:`ecti.voice.instructions.CallInput`).


@dataclass(frozen=True)
class PluginSettings:
    """Settings a plugin keeps per company (``ecti_plugin_settings``): the core stores them, shows
    them as a console form (設定 → プラグインの設定), validates them with ``schema`` and records
    every change in the audit log.

    ``schema`` is a JSON Schema object whose properties are strings (``format: "uri"`` for a web
    address, ``"email"`` for an e-mail address), integers, numbers, booleans or ``enum`` choices, with ``default`` values and
    ``required``; ``labels`` name each property for people (translation strings) and ``help``
    may explain one; ``secrets`` are stored encrypted, never shown again, and masked in the audit
    log.
    """

    name: str
    label: Any
    schema: dict
    labels: dict = field(default_factory=dict)
    help: dict = field(default_factory=dict)
    secrets: tuple = ()
