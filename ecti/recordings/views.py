"""Playback, download and deletion of recordings (F-REC-2), and the recording settings.

=============================  ===========================================================
``recording_media``            ``GET /recordings/{id}/media[?format=mp3]``: streamed from the
                               carrier, seekable (HTTP Range: 206, 416)
``recording_download``         the same with ``Content-Disposition: attachment``
``recording_delete``           ``GET`` a confirmation page, ``POST`` (CSRF) deletes at the
                               carrier, then marks the recording deleted
``recordings.settings``        what is recorded, how long it is kept (admins)
=============================  ===========================================================

Who may hear what: :mod:`ecti.recordings.services`.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select

from ..acd.models import Queue
from ..calls.models import QueueRecordingOverride, Recording
from ..errors import UserError
from ..i18n import _
from ..interfaces import RecordingNotFound
from ..tenancy.models import Tenant
from ..web import flash, get_or_404
from .services import FORMATS, RangeNotSatisfiable, carrier_of, delete_at_carrier, may_delete, may_listen, parse_range, save_settings, settings_of, slice_chunks

TEMPLATES = "ecti:recordings/templates/"


def _recording(request) -> Recording:
    """The recording, when this user may hear it; 404 for everything else (another company's
    recording and one this user may not hear look the same as one that does not exist)."""
    recording = get_or_404(request, Recording, request.matchdict["id"])
    if not may_listen(request, recording):
        raise HTTPNotFound()
    return recording


def _media_response(request, *, attachment: bool) -> Response:
    recording = _recording(request)
    media_format = request.GET.get("format", "wav")
    if media_format not in FORMATS:
        raise UserError("format_invalid", _("Choose the format wav or mp3."), field="format", status=422)
    if not recording.playable:
        raise HTTPNotFound()
    tenant = request.db.get(Tenant, recording.tenant_id)
    carrier = carrier_of(request.registry, tenant)
    try:
        media = carrier.fetch_recording(
            registry=request.registry, tenant=tenant, carrier_recording_id=recording.carrier_recording_id,
            media_format=media_format, channels=recording.channels,
        )
    except RecordingNotFound:
        raise HTTPNotFound()
    except Exception as exc:
        raise UserError(
            "carrier_unreachable", _("The recording could not be fetched from the carrier: ${error}", mapping={"error": str(exc)[:200]}),
            status=502,
        ) from None
    chunks = media.chunks
    if media.length is None:  # the carrier did not say how long: read it all to serve ranges
        body = b"".join(chunks)
        if media.close:
            media.close()
        chunks, total = [body], len(body)
    else:
        total = media.length
    response = Response(content_type=media.content_type)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Cache-Control"] = "private, no-store"
    if attachment:
        name = f"recording-{recording.id}.{media_format}"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    try:
        wanted = parse_range(request.headers.get("Range"), total)
    except RangeNotSatisfiable:
        if media.close:
            media.close()
        response.status_int = 416
        response.headers["Content-Range"] = f"bytes */{total}"
        response.body = b""
        return response
    if wanted is None:
        response.content_length = total
        response.app_iter = _closing(chunks, media.close)
    else:
        response.status_int = 206
        response.headers["Content-Range"] = f"bytes {wanted.start}-{wanted.end}/{total}"
        response.content_length = wanted.length
        response.app_iter = _closing(slice_chunks(chunks, wanted.start, wanted.end), media.close)
    return response


class _closing:
    """An app_iter that closes the carrier's connection when the server is done with it."""

    def __init__(self, iterable, close):
        self.iterable, self._close = iterable, close

    def __iter__(self):
        return iter(self.iterable)

    def close(self):
        if self._close:
            self._close()


def _problem(request, err: UserError) -> Response:
    """A media request that cannot be served: the reason as text (a player shows nothing else)."""
    return Response(request.localizer.translate(err.message), status=err.status, content_type="text/plain", charset="utf-8")


@view_config(route_name="recording_media", request_method=("GET", "HEAD"), permission="signed_in")
def recording_media(request):
    try:
        return _media_response(request, attachment=False)
    except UserError as err:
        return _problem(request, err)


@view_config(route_name="recording_download", request_method="GET", permission="signed_in")
def recording_download(request):
    try:
        return _media_response(request, attachment=True)
    except UserError as err:
        return _problem(request, err)


@view_config(route_name="recording_delete", request_method="GET", permission="signed_in", renderer=TEMPLATES + "delete.jinja2")
def recording_delete_confirm(request):
    recording = _recording(request)
    if not may_delete(request, recording):
        raise HTTPNotFound()
    return {"recording": recording, "next": _safe_next(request), "error": None}


@view_config(route_name="recording_delete", request_method="POST", permission="signed_in", renderer=TEMPLATES + "delete.jinja2")
def recording_delete(request):
    recording = _recording(request)
    if not may_delete(request, recording):
        raise HTTPNotFound()
    if recording.deleted_at is None:
        try:
            delete_at_carrier(request.registry, request.db, request.db.get(Tenant, recording.tenant_id), recording)
        except UserError as err:
            request.response.status_int = err.status
            return {"recording": recording, "next": _safe_next(request), "error": err.message}
    flash(request, _("The recording has been deleted."))
    return HTTPSeeOther(_safe_next(request) or request.route_url("home"))


def _safe_next(request) -> str | None:
    target = request.params.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else None


# --- settings ------------------------------------------------------------------------------------

OVERRIDE_CHOICES = (("", _("As the company setting")), ("on", _("Record")), ("off", _("Do not record")))


def _settings_context(request, error=None):
    overrides = {o.queue_id: o.record for o in request.db.scalars(select(QueueRecordingOverride))}
    queues = request.db.scalars(select(Queue).order_by(Queue.name)).all()
    return {
        "settings": settings_of(request.db), "queues": queues, "error": error, "choices": OVERRIDE_CHOICES,
        "overrides": {q.id: ("" if q.id not in overrides else "on" if overrides[q.id] else "off") for q in queues},
    }


@view_config(route_name="recordings.settings", request_method="GET", permission="manage", renderer=TEMPLATES + "settings.jinja2")
def settings_page(request):
    return _settings_context(request)


@view_config(route_name="recordings.settings", request_method="POST", permission="manage", renderer=TEMPLATES + "settings.jinja2")
def settings_save(request):
    post = request.POST
    retention = None
    try:
        if post.get("retention") == "days":
            try:
                retention = int(post.get("retention_days", ""))
            except ValueError:
                raise UserError("retention_days_invalid", _("Keep recordings between 1 and 3,650 days, or forever."), field="retention_days", status=422)
        queue_ids = set(request.db.scalars(select(Queue.id)))
        overrides = {}
        for queue_id in queue_ids:
            value = post.get(f"queue_{queue_id}", "")
            overrides[queue_id] = None if value not in ("on", "off") else value == "on"
        with request.db.begin_nested():
            save_settings(request.db, record_queue_calls=post.get("record_queue_calls") == "on",
                          record_outbound=post.get("record_outbound") == "on", retention_days=retention, queue_overrides=overrides)
    except UserError as err:
        request.response.status_int = err.status
        return _settings_context(request, err.message)
    flash(request, _("The recording settings have been saved."))
    return HTTPSeeOther(request.route_url("recordings.settings"))


def includeme(config):
    config.add_route("recording_media", "/recordings/{id:\\d+}/media")
    config.add_route("recording_download", "/recordings/{id:\\d+}/download")
    config.add_route("recording_delete", "/recordings/{id:\\d+}/delete")
    config.add_route("recordings.settings", "/recordings/settings")
    config.add_console_nav("recordings.settings", _("Recording"), group="settings", permission="manage", order=720)
