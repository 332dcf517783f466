"""One guard in front of every view for input no view can read (issue 19).

* A body larger than the limit for its kind is refused with 413 before it is read:
  ``ecti.max_body_bytes`` (forms and JSON, default 1 MiB) and ``ecti.max_upload_bytes``
  (``multipart/form-data`` file uploads, default 32 MiB; prompts take audio up to 30 MB).
  The server's own limit (waitress ``max_request_body_size`` in the ini files) bounds bodies
  sent without a length.
* A query string, form body or JSON body that is not UTF-8 is 400, and so is JSON nested
  deeper than :data:`MAX_JSON_DEPTH` (a JSON parser would recurse until it fails).

Under ``/api/`` the answer has the API's error shape; elsewhere it is plain text. Either way the
message is Japanese first, then English: the guard runs before the language is known.
"""
from __future__ import annotations

import json
import logging

from pyramid.response import Response

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_MAX_UPLOAD = 32 * 1024 * 1024
MAX_JSON_DEPTH = 64

MESSAGES = {
    "request_too_large": "リクエストが大きすぎます（上限 {limit}）。 / The request is too large (limit {limit}).",
    "invalid_encoding": "リクエストに UTF-8 として読めない文字が含まれています。 / The request contains characters that are not valid UTF-8.",
    "json_too_deep": "JSON の入れ子が深すぎます（上限 {limit} 段）。 / The JSON is nested too deeply (limit {limit} levels).",
}


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON ``text`` nests arrays/objects deeper than ``limit`` (strings are skipped)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _refuse(request, status: int, code: str, **mapping) -> Response:
    message = MESSAGES[code].format(**mapping)
    if request.path_info.startswith("/api/"):
        body = json.dumps({"error": {"code": code, "message": message, "fields": []}}, ensure_ascii=False)
        return Response(body, status=status, content_type="application/json", charset="utf-8")
    return Response(message, status=status, content_type="text/plain", charset="utf-8")


def check(request, max_body: int, max_upload: int) -> Response | None:
    """The refusal for ``request``, or None when the views may read it."""
    try:
        request.path_info  # noqa: B018 - decoding the path may fail too
    except UnicodeDecodeError:
        return _refuse(request, 400, "invalid_encoding")
    content_type = (request.content_type or "").lower()
    limit = max_upload if content_type == "multipart/form-data" else max_body
    length = request.content_length
    if length is not None and length > limit:
        log.warning("request body of %s bytes to %s refused (limit %s)", length, request.path_info, limit)
        return _refuse(request, 413, "request_too_large", limit=_size(limit))
    try:
        request.GET.items()
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and length:
            if content_type == "application/x-www-form-urlencoded":
                request.body.decode("utf-8")
            elif content_type == "application/json" or content_type.endswith("+json"):
                text = request.body.decode("utf-8")
                if json_depth_exceeds(text):
                    return _refuse(request, 400, "json_too_deep", limit=MAX_JSON_DEPTH)
    except UnicodeDecodeError:
        return _refuse(request, 400, "invalid_encoding")
    return None


def guard_tween_factory(handler, registry):
    settings = registry.settings
    max_body = int(settings.get("ecti.max_body_bytes", DEFAULT_MAX_BODY))
    max_upload = int(settings.get("ecti.max_upload_bytes", DEFAULT_MAX_UPLOAD))

    def guard(request):
        refusal = check(request, max_body, max_upload)
        return refusal if refusal is not None else handler(request)

    return guard


#: The largest id a row has (32-bit integer columns on PostgreSQL).
MAX_ID = 2**31 - 1


def ids_in_range(event) -> None:
    """An id in the path no row can have (``/api/v1/acd/queues/99999999999999999999``) is not
    found, before a view hands it to the database (which refuses the number)."""
    from pyramid.httpexceptions import HTTPNotFound

    for name, value in (event.request.matchdict or {}).items():
        if (name == "id" or name.endswith("_id")) and isinstance(value, str) and value.isdigit() and int(value) > MAX_ID:
            raise HTTPNotFound()


def includeme(config):
    from pyramid.events import ContextFound
    from pyramid.tweens import INGRESS

    config.add_tween("ecti.guards.guard_tween_factory", under=INGRESS)
    config.add_subscriber(ids_in_range, ContextFound)
