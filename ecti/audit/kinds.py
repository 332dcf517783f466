"""The core's configuration, as the audit log shows it (see :mod:`ecti.audit.tracking`).

One declaration per kind of configuration: which model, which fields (with the labels people
read), which fields are secrets, which change by themselves while calls are handled and so must
not make entries. Plugins declare their own settings the same way (docs/plugins.md).
"""
from __future__ import annotations

from ..acd.models import Queue, QueueMember
from ..calls.models import QueueRecordingOverride, RecordingSettings
from ..dialer.models import LIST_STATUS_LABELS, DialingList, DialingListAgent, DoNotCall
from ..i18n import _
from ..ivr.models import Closure, Flow, Schedule, VoicemailBox
from ..prompts.models import Prompt, PromptKind
from ..prompts.voice import EMOTION_LABELS
from ..telephony.models import PhoneNumber
from ..tenancy.models import User
from .tracking import Audited, Children, audit_kind, audit_model

NAME = {"name": _("Name")}

def _flow_part(path: str):
    """A part of a flow step as the flow editor labels it."""
    from ..ivr.forms import FIELD_LABELS, exit_label

    section, _dot, name = path.partition(".")
    if section == "settings":
        return FIELD_LABELS.get(name, name)
    if section == "next":
        return exit_label(name)
    return {"type": _("Step type")}.get(path, path)


audit_model(Flow, Audited(
    kind="flow", label=_("Call flow"),
    labels={**NAME, "start": _("First step"), "nodes": _("Step")},
    parts=_flow_part,
))
audit_model(Schedule, Audited(
    kind="schedule", label=_("Business hours"),
    labels={**NAME, "weekly": _("Hours per weekday"), "calendars": _("Holiday calendars")},
    choices={"calendars": "holiday_calendars"},
))
audit_model(Closure, Audited(
    kind="closure", label=_("Company holiday"),
    labels={**NAME, "start_date": _("First day"), "end_date": _("Last day")},
))
audit_model(Prompt, Audited(
    kind="prompt", label=_("Prompt"),
    labels={
        **NAME, "kind": _("Type"), "text": _("Text"), "provider": _("Voice engine"), "voice": _("Voice"),
        "speed": _("Speed"), "pitch": _("Pitch"), "intonation": _("Intonation"), "volume": _("Volume"),
        "emotion": _("Emotion"), "original_filename": _("File"), "duration_ms": _("Length (ms)"),
    },
    # Where and how the file is stored says nothing an admin chose.
    exclude=("storage_key", "content_type", "codec", "sample_rate", "channels", "size_bytes"),
    choices={"kind": {k.value: k.label for k in PromptKind}, "emotion": dict(EMOTION_LABELS)},
))
audit_model(Queue, Audited(
    kind="queue", label=_("Queue"),
    labels={
        **NAME, "strategy": _("Routing"), "ring_timeout": _("Ring time (s)"), "wrap_up_seconds": _("Wrap-up (s)"),
        "escalation_seconds": _("Next level after (s)"), "max_wait_seconds": _("Maximum wait (s)"),
        "max_length": _("Maximum callers waiting"), "overflow": _("Overflow"),
        "join_when_empty": _("Callers may join with no agent"), "leave_when_empty": _("Callers leave when the last agent logs out"),
        "max_no_answers": _("Missed offers before away"), "service_level_seconds": _("Service level target (s)"),
        "hold_audio": _("Music while waiting"), "announce_seconds": _("Announcement every (s)"),
        "announce_position": _("Announce position"), "announce_wait": _("Announce estimated wait"),
        "callback_enabled": _("Callback offered"), "callback_key": _("Callback key"),
        "callback_retry_seconds": _("Callback retry after (s)"), "callback_attempts": _("Callback attempts"),
        "callback_schedule_id": _("Callback hours"),
        "archived_at": _("Deleted"), "members": _("Members"), "recording": _("Recording"),
        "user_id": _("Agent"), "level": _("Level"), "position": _("Order"), "record": _("Record calls"),
        "wallboard_waiting_amber": _("Wallboard: amber from calls waiting"), "wallboard_waiting_red": _("Wallboard: red from calls waiting"),
        "wallboard_wait_amber": _("Wallboard: amber from longest wait (s)"), "wallboard_wait_red": _("Wallboard: red from longest wait (s)"),
        "wallboard_service_level_amber": _("Wallboard: amber below service level (%)"),
        "wallboard_service_level_red": _("Wallboard: red below service level (%)"),
    },
    choices={"strategy": "routing_strategies"},
    exclude=("cursor",),  # moved by round-robin routing on every call
    archived="archived_at",
    children=(
        Children("members", QueueMember, "queue_id", ("user_id", "level", "position"), refs={"user_id": (User, "email")}),
        Children("recording", QueueRecordingOverride, "queue_id", ("record",)),
    ),
))
audit_model(VoicemailBox, Audited(
    kind="voicemail_box", label=_("Voicemail box"),
    labels={
        **NAME, "greeting": _("Greeting"), "max_length": _("Maximum length (s)"), "queue_id": _("Queue"),
        "user_id": _("Personal box of"), "recipient_user_ids": _("Notify users"),
        "recipient_emails": _("Notify addresses"), "attach_audio": _("Attach the recording"),
    },
    refs={"queue_id": (Queue, "name"), "user_id": (User, "email"), "recipient_user_ids": (User, "email")},
))
audit_model(DialingList, Audited(
    kind="dialing_list", label=_("Dialing list"),
    labels={
        **NAME, "caller_id": _("Caller ID"), "schedule_id": _("Calling hours"), "weekly": _("Hours per weekday"),
        "calendars": _("Holiday calendars"), "retry": _("Retries"), "status": _("Status"),
        "preview_seconds": _("Preview (s)"), "columns": _("Columns"), "agents": _("Agents"), "user_id": _("Agent"),
    },
    refs={"schedule_id": (Schedule, "name")},
    choices={"status": {k.value: v for k, v in LIST_STATUS_LABELS.items()}, "calendars": "holiday_calendars"},
    children=(Children("agents", DialingListAgent, "list_id", ("user_id",), refs={"user_id": (User, "email")}),),
))
audit_model(DoNotCall, Audited(
    kind="do_not_call", label=_("Do-not-call number"), title="number",
    labels={"number": _("Number"), "reason": _("Reason"), "user_id": _("Added by")},
    refs={"user_id": (User, "email")},
))
audit_model(RecordingSettings, Audited(
    kind="recording_settings", label=_("Recording settings"), title=None,
    labels={
        "record_queue_calls": _("Record queue calls"), "record_outbound": _("Record outgoing calls"),
        "retention_days": _("Keep recordings (days)"),
    },
))
audit_model(PhoneNumber, Audited(
    kind="phone_number", label=_("Phone number"), title="e164",
    labels={
        "e164": _("Number"), "label": _("Label"), "carrier_sid": _("Carrier's ID"), "voice_capable": _("Voice"),
        "sms_capable": _("SMS"), "managed": _("Set up by ECTI"), "flow_id": _("Call flow"),
    },
    refs={"flow_id": (Flow, "name")},
))

# Changes that are not one row: recorded with ecti.audit.record_change().
audit_kind(Audited(kind="sms", label=_("SMS settings"), title=None, labels={"recipients": _("Notified of incoming SMS")}))
audit_kind(Audited(
    kind="contacts", label=_("Contacts"), title=None,
    labels={"file": _("File"), "created": _("Contacts added")},
))
audit_kind(Audited(
    kind="dialing_rows", label=_("Dialing list rows"),
    labels={"file": _("File"), "imported": _("Imported"), "rows": _("Rows")},
))
audit_kind(Audited(
    kind="config_file", label=_("Configuration file"), title=None,
    labels={"sections": _("Sections"), "file": _("File")},
    choices={"sections": {
        "tenant": _("Company"), "users": _("Users"), "numbers": _("Phone numbers"), "schedules": _("Business hours"),
        "closures": _("Company holidays"), "voicemail_boxes": _("Voicemail boxes"), "flows": _("Call flows"),
        "prompts": _("Prompts"), "queues": _("Queues"),
    }},
))
