"""Dialing lists (自動連続発信): a progressive dialer on top of the ACD's agents and the softphone.

Console pages under ``/dialer`` (lists, CSV upload with a preview, start/pause/stop, progress,
results CSV, do-not-call list), the JSON API under ``/api/v1/dialer`` and the softphone's
"発信リスト" panel (``static/dialer.js``). See ``docs/dialer.md``.
"""
from ..i18n import _


def includeme(config):
    from ..api import API_PREFIX

    api = f"{API_PREFIX}/dialer"
    config.include(".jobs")
    config.add_route("dialer", "/dialer")
    config.add_route("dialer.list", "/dialer/{id:\\d+}")
    config.add_route("dialer.upload", "/dialer/{id:\\d+}/upload")
    config.add_route("dialer.import", "/dialer/imports/{id:\\d+}")
    config.add_route("dialer.status", "/dialer/{id:\\d+}/status")
    config.add_route("dialer.export", "/dialer/{id:\\d+}/results.csv")
    config.add_route("dialer.dnc", "/dialer/do-not-call")
    config.add_route("api.dialer.my_lists", f"{api}/me/lists")
    config.add_route("api.dialer.join", f"{api}/me/lists/{{id:\\d+}}/join")
    config.add_route("api.dialer.leave", f"{api}/me/lists/{{id:\\d+}}/leave")
    config.add_route("api.dialer.next", f"{api}/me/next")
    config.add_route("api.dialer.dial", f"{api}/me/attempts/{{id:\\d+}}/dial")
    config.add_route("api.dialer.skip", f"{api}/me/attempts/{{id:\\d+}}/skip")
    config.add_route("api.dialer.result", f"{api}/me/attempts/{{id:\\d+}}/result")
    config.add_route("api.dialer.lists", f"{api}/lists")
    config.add_route("api.dialer.list", f"{api}/lists/{{id:\\d+}}")
    config.add_route("api.dialer.list_status", f"{api}/lists/{{id:\\d+}}/status")
    config.add_route("api.dialer.imports", f"{api}/lists/{{id:\\d+}}/imports")
    config.add_route("api.dialer.import_confirm", f"{api}/imports/{{id:\\d+}}/confirm")
    config.add_static_view("dialer-static", "ecti:dialer/static", cache_max_age=3600)
    config.add_console_nav("dialer", _("Dialing lists"), group="settings", permission="supervise", order=60)
