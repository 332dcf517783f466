"""Configure a tenant's Twilio account for ECTI (``ecti twilio sync``, the console button).

Reads the account's numbers with their capabilities, creates or updates the TwiML App (the
softphone's Voice URL) and an API key (for softphone tokens), and points each managed number's
Voice URL, fallback, status callback and SMS URL at ECTI. Only what differs is changed, so a
second run changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ecti.models.meta import utcnow
from ecti.telephony.models import PhoneNumber

from .carrier import client_for
from .models import TwilioAccount


@dataclass
class SyncReport:
    numbers_added: list[str] = field(default_factory=list)
    numbers_updated: list[str] = field(default_factory=list)
    webhooks_set: list[str] = field(default_factory=list)
    app_created: bool = False
    app_updated: bool = False
    key_created: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.numbers_added or self.numbers_updated or self.webhooks_set or self.app_created or self.app_updated or self.key_created)


def webhook_urls(public_url: str) -> dict[str, str]:
    base = public_url.rstrip("/")
    return {
        "voice_url": f"{base}/twilio/voice/incoming",
        "voice_fallback_url": f"{base}/twilio/voice/fallback",
        "status_callback": f"{base}/twilio/voice/status",
        "sms_url": f"{base}/twilio/sms/incoming",
        "client_voice_url": f"{base}/twilio/voice/client",
    }


def sync_tenant(session, registry, tenant, public_url: str) -> SyncReport:
    """Bring the tenant's Twilio account and ECTI's records in line; return what changed."""
    client = client_for(registry, tenant)
    urls = webhook_urls(public_url)
    report = SyncReport()
    account = session.scalar(select(TwilioAccount).where(TwilioAccount.tenant_id == tenant.id))
    if account is None:
        account = TwilioAccount(tenant_id=tenant.id)
        session.add(account)

    _sync_app(client, tenant, account, urls, report)
    if not account.api_key_sid:
        key = client.new_keys.create(friendly_name=f"ECTI softphone ({tenant.slug})")
        account.api_key_sid = key.sid
        account.api_key_secret_encrypted = registry.secret_box.encrypt(key.secret)
        report.key_created = True

    known = {n.e164: n for n in session.scalars(select(PhoneNumber).where(PhoneNumber.tenant_id == tenant.id))}
    for remote in client.incoming_phone_numbers.list():
        caps = remote.capabilities or {}
        voice, sms = bool(caps.get("voice")), bool(caps.get("sms"))
        number = known.get(remote.phone_number)
        if number is None:
            number = PhoneNumber(
                tenant_id=tenant.id, e164=remote.phone_number, label=remote.friendly_name or "", carrier_sid=remote.sid,
                voice_capable=voice, sms_capable=sms, managed=True,
            )
            session.add(number)
            report.numbers_added.append(remote.phone_number)
        elif (number.carrier_sid, number.voice_capable, number.sms_capable) != (remote.sid, voice, sms):
            number.carrier_sid, number.voice_capable, number.sms_capable = remote.sid, voice, sms
            report.numbers_updated.append(remote.phone_number)
        if not number.managed:
            continue
        wanted = {
            "voice_url": urls["voice_url"],
            "voice_method": "POST",
            "voice_fallback_url": urls["voice_fallback_url"],
            "status_callback": urls["status_callback"],
            "status_callback_method": "POST",
        }
        if sms:
            wanted.update(sms_url=urls["sms_url"], sms_method="POST")
        differing = {k: v for k, v in wanted.items() if (getattr(remote, k, None) or "") != v}
        if differing:
            client.incoming_phone_numbers(remote.sid).update(**differing)
            report.webhooks_set.append(remote.phone_number)
    account.synced_at = utcnow()
    session.flush()
    return report


def _sync_app(client, tenant, account: TwilioAccount, urls: dict, report: SyncReport) -> None:
    name = f"ECTI softphone ({tenant.slug})"
    app = None
    if account.twiml_app_sid:
        app = next((a for a in client.applications.list(friendly_name=name) if a.sid == account.twiml_app_sid), None)
    if app is None:
        app = next(iter(client.applications.list(friendly_name=name)), None)
    # The status callback ends the browser's outgoing calls in ECTI (their call records).
    wanted = dict(voice_url=urls["client_voice_url"], voice_method="POST", status_callback=urls["status_callback"],
                  status_callback_method="POST")
    if app is None:
        app = client.applications.create(friendly_name=name, **wanted)
        report.app_created = True
    elif (app.voice_url != urls["client_voice_url"] or (app.voice_method or "POST") != "POST"
          or app.status_callback != urls["status_callback"]):
        client.applications(app.sid).update(**wanted)
        report.app_updated = True
    account.twiml_app_sid = app.sid
