"""The ``email`` notification channel: one message per recipient over SMTP.

Settings (INI, or the environment for secrets)::

    ecti.mail.host = localhost          # ECTI_SMTP_HOST
    ecti.mail.port = 25                 # ECTI_SMTP_PORT
    ecti.mail.username =                # ECTI_SMTP_USERNAME
    ecti.mail.password =                # ECTI_SMTP_PASSWORD (keep it out of the INI)
    ecti.mail.starttls = false          # STARTTLS before authenticating
    ecti.mail.ssl = false               # implicit TLS (port 465)
    ecti.mail.sender = ECTI <noreply@example.jp>
    ecti.mail.timeout = 20

Each company may set, on the console (プラグイン → 自社の設定 → 通知メール), the sender's display
name its people see (``株式会社アクメ 留守番電話 <noreply@example.jp>``: the address stays the
instance's, which its mail server may send for) and a Reply-To address.

The standard library's :mod:`smtplib` does the sending. ``pyramid_mailer`` was not used: its
transactional delivery sends at commit from inside the web request, while ECTI already queues
each delivery in its own outbox row and sends it from a job with retries — what is left is
"send this one message now, or raise", which ``smtplib`` does without another dependency.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from pyramid.settings import asbool

from ecti import hookimpl
from ecti.db import set_tenant_scope
from ecti.i18n import _, localizer_for
from ecti.interfaces import PluginSettings
from ecti.plugin_settings import settings_for

#: What each company may set of its notification e-mails.
COMPANY_SETTINGS = PluginSettings(
    name="mail",
    label=_("Notification e-mail"),
    schema={"type": "object", "properties": {
        "sender_name": {"type": "string", "maxLength": 100},
        "reply_to": {"type": "string", "format": "email", "maxLength": 254},
    }},
    labels={"sender_name": _("Sender's name"), "reply_to": _("Reply-To address")},
    help={"sender_name": _("Shown as the sender of voicemail and SMS notifications, e.g. 株式会社アクメ 留守番電話. Empty: the installation's own."),
          "reply_to": _("Where replies to a notification go. Empty: replies go to the sender address.")},
)


class MailNotConfigured(RuntimeError):
    pass


def mail_settings(registry) -> dict:
    settings = registry.settings
    return {
        "host": settings.get("ecti.mail.host") or "localhost",
        "port": int(settings.get("ecti.mail.port") or 25),
        "username": settings.get("ecti.mail.username") or "",
        "password": settings.get("ecti.mail.password") or "",
        "starttls": asbool(settings.get("ecti.mail.starttls", False)),
        "ssl": asbool(settings.get("ecti.mail.ssl", False)),
        "sender": settings.get("ecti.mail.sender") or "",
        "timeout": float(settings.get("ecti.mail.timeout") or 20),
    }


def company_settings(registry, tenant_id: int) -> dict:
    """The company's own sender name and Reply-To (empty when not set)."""
    session = registry["ecti.session_factory"]()
    try:
        set_tenant_scope(session, tenant_id)
        return settings_for(session, registry, tenant_id, COMPANY_SETTINGS.name)
    finally:
        session.close()


def build_message(notification, sender: str, company: dict | None = None) -> EmailMessage:
    """The e-mail for one recipient, in the notification's language (UTF-8, Japanese-safe), from
    the company's sender name (if set) at the installation's address."""
    company = company or {}
    localizer = localizer_for(notification.locale or "ja")
    message = EmailMessage()
    if company.get("sender_name"):
        sender = formataddr((company["sender_name"], parseaddr(sender)[1]))
    message["From"] = sender
    if company.get("reply_to"):
        message["Reply-To"] = company["reply_to"]
    message["To"] = ", ".join(notification.recipients)
    message["Subject"] = localizer.translate(notification.subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">") or "ecti.local")
    message.set_content(localizer.translate(notification.body), charset="utf-8")
    for filename, content_type, data in notification.attachments:
        maintype, _sep, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=filename)
    return message


class EmailChannel:
    name = "email"
    label = _("E-mail")

    def deliver(self, notification, *, registry) -> None:
        conf = mail_settings(registry)
        if not conf["sender"]:
            raise MailNotConfigured("set ecti.mail.sender (the From address) in the INI file")
        message = build_message(notification, conf["sender"], company_settings(registry, notification.tenant_id))
        if conf["ssl"]:
            smtp = smtplib.SMTP_SSL(conf["host"], conf["port"], timeout=conf["timeout"], context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(conf["host"], conf["port"], timeout=conf["timeout"])
        with smtp:
            if conf["starttls"] and not conf["ssl"]:
                smtp.starttls(context=ssl.create_default_context())
            if conf["username"]:
                smtp.login(conf["username"], conf["password"])
            smtp.send_message(message)


@hookimpl
def ecti_notification_channels():
    return [EmailChannel()]


@hookimpl
def ecti_plugin_settings():
    return [COMPANY_SETTINGS]
