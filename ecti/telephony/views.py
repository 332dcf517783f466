"""The tenant's numbers and the softphone's carrier credentials (JSON API)."""
from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select

from ..api import API_PREFIX, api_view
from ..errors import UserError
from ..i18n import _
from ..voice.calls import softphone_identity
from ..web import get_or_404
from .models import PhoneNumber
from .numbering import format_domestic


class NumberOut(BaseModel):
    id: int
    e164: str
    display: str
    label: str
    voice_capable: bool
    sms_capable: bool


class NumberList(BaseModel):
    numbers: list[NumberOut]


class SoftphoneToken(BaseModel):
    token: str
    identity: str
    ttl_seconds: int


def _number_out(n: PhoneNumber) -> NumberOut:
    return NumberOut(id=n.id, e164=n.e164, display=format_domestic(n.e164), label=n.label, voice_capable=n.voice_capable, sms_capable=n.sms_capable)


@api_view("api.numbers", method="GET", summary="The company's phone numbers", permission="signed_in", response=NumberList, tags=("numbers",))
def api_numbers(request):
    numbers = request.db.scalars(select(PhoneNumber).order_by(PhoneNumber.e164)).all()
    return NumberList(numbers=[_number_out(n) for n in numbers])


@api_view("api.number", method="GET", summary="One phone number", permission="signed_in", response=NumberOut, tags=("numbers",), errors=(404,))
def api_number(request):
    return _number_out(get_or_404(request, PhoneNumber, request.matchdict["id"]))


@api_view(
    "api.softphone_token", method="POST", summary="A short-lived token for the browser phone",
    permission="softphone", response=SoftphoneToken, tags=("softphone",), errors=(409,),
)
def api_softphone_token(request):
    tenant = request.tenant
    carrier = request.registry.ecti.carriers.get(tenant.carrier)
    if carrier is None or not hasattr(carrier, "softphone_credentials"):
        raise UserError("no_carrier", _("No phone carrier is installed for this company."), status=409)
    return SoftphoneToken(**carrier.softphone_credentials(request=request, tenant=tenant, identity=softphone_identity(request.identity)))


def includeme(config):
    config.add_route("api.numbers", f"{API_PREFIX}/numbers")
    config.add_route("api.number", f"{API_PREFIX}/numbers/{{id:\\d+}}")
    config.add_route("api.softphone_token", f"{API_PREFIX}/softphone/token")
