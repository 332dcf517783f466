"""The e-mail channel as a plugin: registered through the hook, message built in the
recipient's language, settings read from the INI."""
from email import policy
from email.parser import BytesParser

from ecti.i18n import _
from ecti.interfaces import Notification, NotificationChannel
from ecti.plugins import Registries, get_plugin_manager
from ecti_mail.plugin import EmailChannel, build_message


def test_hook_ecti_notification_channels_registers_the_email_channel():
    channels = Registries.collect(get_plugin_manager()).notification_channels
    assert isinstance(channels["email"], EmailChannel) and isinstance(channels["email"], NotificationChannel)


def _notification(locale):
    mapping = {"caller": "090-1111-2222", "box": "代表伝言"}
    return Notification(tenant_id=1, kind="voicemail.received", recipients=["a@example.jp"],
                        subject=_("Voicemail from ${caller} (${box})", mapping=mapping), body=_("Unknown number"),
                        attachments=[("m.wav", "audio/x-wav", b"RIFF0000")], locale=locale)


def test_the_message_is_in_the_recipients_language_with_the_attachment():
    japanese = BytesParser(policy=policy.default).parsebytes(build_message(_notification("ja"), "ECTI <n@ecti.example>").as_bytes())
    assert japanese["Subject"] == "留守番電話: 090-1111-2222 (代表伝言)"
    assert japanese.get_body(("plain",)).get_content().strip() == "番号不明"
    [attached] = japanese.iter_attachments()
    assert (attached.get_filename(), attached.get_content_type(), attached.get_content()) == ("m.wav", "audio/x-wav", b"RIFF0000")
    english = build_message(_notification("en"), "n@ecti.example")
    assert english["Subject"] == "Voicemail from 090-1111-2222 (代表伝言)"


def test_without_a_sender_the_channel_refuses_and_says_which_setting():
    class Registry:
        settings = {"ecti.mail.host": "127.0.0.1", "ecti.mail.port": "9"}

    try:
        EmailChannel().deliver(_notification("ja"), registry=Registry())
    except RuntimeError as exc:
        assert "ecti.mail.sender" in str(exc)
    else:
        raise AssertionError("sent without a From address")
