"""The IVR: call flows, business hours and holidays, voicemail boxes (issue 4, F-IVR-2..7).

``includeme`` makes the flow engine the inbound entry of every number (a number without a flow
still hears "not set up yet"), registers the ``ivr.resume`` continuation, the reference kinds
node settings may name (``config.add_ivr_reference``: schedules, voicemail boxes, ACD queues), the console pages
and the JSON API; ``ivr.node`` lets a queue overflow into a flow. Node types themselves come from the ``ecti_ivr_node_types`` hook; the bundled
ones are registered by :mod:`ecti.builtin_plugins` like any plugin's.
"""
from __future__ import annotations

from sqlalchemy import select

from ..i18n import _
from ..voice import INBOUND_ENTRY
from .engine import NODE_ENTRY, RESUME, inbound_entry, node_entry, resume
from .models import Schedule, VoicemailBox
from .validation import add_ivr_reference


def schedule_choices(session) -> dict[int, str]:
    return dict(session.execute(select(Schedule.id, Schedule.name).order_by(Schedule.name)).all())


def queue_choices(session) -> dict[int, str]:
    from ..acd.models import Queue

    return dict(session.execute(select(Queue.id, Queue.name).where(Queue.archived_at.is_(None)).order_by(Queue.name)).all())


def box_choices(session) -> dict[int, str]:
    return dict(session.execute(select(VoicemailBox.id, VoicemailBox.name).order_by(VoicemailBox.name)).all())


def flow_prompt_usages(request, prompt_ids):
    """The flows whose steps play one of ``prompt_ids`` (the prompt library names them, and
    refuses to delete a prompt a flow plays)."""
    from ..prompts.services import PromptUsage, prompt_ids_in
    from .models import Flow

    for flow in request.db.scalars(select(Flow).order_by(Flow.name)):
        for prompt_id in sorted(prompt_ids_in(flow.nodes) & prompt_ids):
            yield PromptUsage(prompt_id, _("Call flow “${name}”", mapping={"name": flow.name}), request.route_url("ivr.flow", id=flow.id))


def includeme(config):
    config.add_directive("add_ivr_reference", add_ivr_reference)
    config.add_prompt_usage_finder(flow_prompt_usages)
    config.add_call_handler(INBOUND_ENTRY, inbound_entry)
    config.add_call_handler(RESUME, resume)
    config.add_call_handler(NODE_ENTRY, node_entry)
    config.add_ivr_reference("schedule", _("schedule"), schedule_choices)
    config.add_ivr_reference("voicemail_box", _("voicemail box"), box_choices)
    config.add_ivr_reference("queue", _("Queue"), queue_choices)
    config.include(".config_sections")
    config.include(".views")
    config.add_static_view("ivr-static", "ecti:ivr/static", cache_max_age=3600)
    # The visual editor's diagram library, installed by npm (never committed), like SLDS at /slds.
    from ..softphone import node_modules

    modules = node_modules(config.registry.settings)
    config.add_static_view("cytoscape", str(modules / "cytoscape/dist"), cache_max_age=86400)
    config.add_static_view("cytoscape-dagre", str(modules / "cytoscape-dagre/dist"), cache_max_age=86400)
