"""How "voicemail received" reads (built when it is sent, in the recipient's language)."""
from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from ..i18n import _
from ..interfaces import Notification
from ..ivr.models import VoicemailBox, VoicemailMessage
from ..telephony.numbering import format_domestic
from ..tenancy.models import Tenant

log = logging.getLogger(__name__)


def message_url(request, message_id: int) -> str:
    """The message in the console, at ECTI's public address (``ECTI_PUBLIC_URL``)."""
    public = request.registry.settings.get("ecti.public_url")
    path = request.route_path("voicemail.message", id=message_id)
    return public.rstrip("/") + path if public else request.route_url("voicemail.message", id=message_id)


def build_notification(request, delivery) -> Notification | None:
    message = request.db.get(VoicemailMessage, delivery.subject_id)
    if message is None or message.deleted_at is not None:
        return None
    box = request.db.get(VoicemailBox, message.box_id)
    tenant = request.db.get(Tenant, message.tenant_id)
    local = message.created_at.astimezone(ZoneInfo(tenant.time_zone or "Asia/Tokyo"))
    caller = format_domestic(message.from_number) if message.from_number else _("Unknown number")
    mapping = {
        "caller": caller, "box": box.name, "seconds": message.duration_seconds or 0,
        "time": local.strftime("%Y-%m-%d %H:%M"), "link": message_url(request, message.id),
    }
    attachments = ()
    if box.attach_audio and message.recording_ref_id:
        attachments = _audio(request, tenant, message)
    return Notification(
        tenant_id=tenant.id,
        kind="voicemail.received",
        recipients=[delivery.recipient],
        subject=_("Voicemail from ${caller} (${box})", mapping=mapping),
        body=_(
            "A new voicemail message has arrived.\n\nCaller: ${caller}\nReceived: ${time}\nLength: ${seconds} seconds\n"
            "Box: ${box}\n\nListen in ECTI: ${link}\n",
            mapping=mapping,
        ),
        link=mapping["link"],
        attachments=attachments,
        locale=delivery.locale,
    )


def _audio(request, tenant, message) -> tuple:
    """The message as WAV for the attachment; without it (carrier unreachable) the mail still
    goes, with its link."""
    from ..calls.models import Recording
    from ..recordings.services import carrier_of

    recording = request.db.get(Recording, message.recording_ref_id)
    if recording is None or not recording.playable:
        return ()
    try:
        media = carrier_of(request.registry, tenant).fetch_recording(
            registry=request.registry, tenant=tenant, carrier_recording_id=recording.carrier_recording_id,
            media_format="wav", channels=recording.channels,
        )
        try:
            body = b"".join(media.chunks)
        finally:
            if media.close:
                media.close()
    except Exception:
        log.exception("voicemail %s: the recording could not be fetched for the attachment", message.id)
        return ()
    return ((f"voicemail-{message.id}.wav", "audio/x-wav", body),)
