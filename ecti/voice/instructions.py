"""What a call should do next, in words that belong to no carrier.

Core subsystems (IVR, ACD, voicemail, the softphone) answer a call's events with a list of
these instructions; the tenant's carrier plugin turns them into its own language (the Twilio
plugin renders TwiML with the SDK's builders). Where the carrier must come back to ECTI — after
a menu's digits, when a dial ends, while a caller waits — the instruction carries a
:class:`Continuation`: the name of a core handler (registered with
``config.add_call_handler``) and a few string arguments. The carrier plugin turns the
continuation into its own callback URL and, when the carrier calls back, into a call of that
handler with the normalised :class:`CallInput`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence, Union

from ..interfaces import VoiceSettings


@dataclass(frozen=True)
class Continuation:
    """Where the call continues: a registered handler name and its (string) arguments."""

    handler: str
    args: Mapping[str, str] = field(default_factory=dict)

    def with_args(self, **more: str) -> "Continuation":
        return Continuation(self.handler, {**self.args, **{k: str(v) for k, v in more.items()}})


@dataclass(frozen=True)
class Say:
    """Speak text with a carrier voice. ``settings`` may ask for speed, pitch, emotion…"""

    text: str
    language: str = "ja-JP"
    voice: str | None = None
    settings: VoiceSettings | None = None
    loop: int = 1


@dataclass(frozen=True)
class Play:
    """Play an audio file the carrier can fetch (an absolute URL)."""

    url: str
    loop: int = 1


@dataclass(frozen=True)
class Pause:
    seconds: int = 1


Prompt = Union[Say, Play, Pause]


@dataclass(frozen=True)
class Gather:
    """Play ``prompts`` while collecting DTMF digits; the digits go to ``next``.

    With no input after ``timeout`` seconds, ``next`` is still called, with empty digits, so
    the handler decides what silence means.
    """

    next: Continuation
    prompts: Sequence[Prompt] = ()
    num_digits: int | None = 1
    timeout: int = 5
    finish_on_key: str = "#"


@dataclass(frozen=True)
class Record:
    """Record the caller (voicemail). ``next`` gets the recording; ``status`` its final state."""

    next: Continuation
    status: Continuation | None = None
    max_length: int = 120
    timeout: int = 5
    finish_on_key: str = "#"
    play_beep: bool = True


@dataclass(frozen=True)
class DialTarget:
    """One party to ring: ``kind`` is ``number`` (E.164), ``client`` (softphone identity) or ``sip``."""

    kind: str
    address: str
    parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dial:
    """Ring ``targets`` (in parallel); when the dial ends, ``next`` gets its result."""

    targets: Sequence[DialTarget]
    next: Continuation | None = None
    timeout: int = 30
    caller_id: str | None = None
    record: bool = False
    recording_status: Continuation | None = None
    answer_on_bridge: bool = True


@dataclass(frozen=True)
class Conference:
    """Join the named conference (one per call: the base of hold, transfer and recording)."""

    name: str
    next: Continuation | None = None
    events: Continuation | None = None
    wait: Continuation | None = None
    start_on_enter: bool = True
    end_on_exit: bool = False
    beep: bool = False
    record: bool = False
    recording_status: Continuation | None = None


@dataclass(frozen=True)
class Enqueue:
    """Wait in the carrier's queue ``queue``; ``wait`` is fetched repeatedly for hold audio."""

    queue: str
    wait: Continuation
    next: Continuation


@dataclass(frozen=True)
class Redirect:
    next: Continuation


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Reject:
    """Refuse an inbound call before answering: ``reason`` is ``rejected`` or ``busy``."""

    reason: str = "rejected"


Instruction = Union[Say, Play, Pause, Gather, Record, Dial, Conference, Enqueue, Redirect, Hangup, Reject]


@dataclass(frozen=True)
class CallInput:
    """What the carrier reported when it came back to a continuation (all optional)."""

    digits: str | None = None
    dial_status: str | None = None  # completed, answered, busy, no-answer, failed, canceled
    dial_call_id: str | None = None
    dial_duration: int | None = None
    queue_result: str | None = None  # bridged, hangup, leave, redirected, queue-full, error
    queue_time: int | None = None
    queue_position: int | None = None
    recording_id: str | None = None
    recording_url: str | None = None
    recording_duration: int | None = None
    recording_status: str | None = None
    recording_channels: int | None = None
    call_status: str | None = None
    #: The carrier's id of the call leg that came back (an agent's leg differs from the caller's).
    carrier_call_id: str | None = None
    raw: Mapping[str, str] = field(default_factory=dict)
