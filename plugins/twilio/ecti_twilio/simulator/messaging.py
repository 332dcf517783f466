"""SMS (mixed into Simulator): outbound through queued, sent and delivered (or undelivered,
failed) with status callbacks; inbound to the number's SmsUrl, with <Message> replies."""
from __future__ import annotations

from typing import Optional

from . import twiml
from .models import Message, PhoneNumber, new_sid


class MessagingMixin:
    """Creating, sending and receiving messages."""

    def _new_message(self, account_sid, from_, to, body, direction, status_callback=""):
        with self.lock:
            message = Message(new_sid("SM"), account_sid, from_, to, body, direction,
                              self.clock.now(), status_callback=status_callback)
            self.messages[message.sid] = message
            return message

    def create_message(self, account_sid: str, from_: str, to: str, body: str,
                       status_callback: str = "") -> Message:
        """Messages create: queued now, then sent and delivered on the engine."""
        message = self._new_message(account_sid, from_, to, body, "outbound-api", status_callback)
        self.engine.submit(self._send_message, message)
        return message

    def _message_params(self, message: Message) -> dict:
        return {"AccountSid": message.account_sid, "ApiVersion": "2010-04-01",
                "MessageSid": message.sid, "SmsSid": message.sid, "SmsMessageSid": message.sid,
                "From": message.from_, "To": message.to, "MessageStatus": message.status,
                "SmsStatus": message.status}

    def _set_message_status(self, message: Message, status: str,
                            error: Optional[tuple] = None) -> None:
        with self.lock:
            message.status = status
            message.date_updated = self.clock.now()
            if status == "sent":
                message.date_sent = message.date_updated
            if error:
                message.error_code, message.error_message = error
        if message.status_callback:
            params = self._message_params(message)
            if error:
                params["ErrorCode"] = error[0]
            self.callback(message.account_sid, "message-status-callback",
                          message.status_callback, "POST", params)

    def _send_message(self, message: Message) -> None:
        phone = self.phone(message.to)
        self._set_message_status(message, "queued")
        if phone.sms_behaviour == "fail":
            self._set_message_status(message, "failed", (30008, "Unknown error"))
            return
        self._set_message_status(message, "sent")
        if phone.sms_behaviour == "undelivered":
            self._set_message_status(message, "undelivered",
                                     (30003, "Unreachable destination handset"))
            return
        phone.receive_message(message)
        self._set_message_status(message, "delivered")

    def _receive_message(self, message: Message, number: PhoneNumber) -> None:
        if not number.sms_url:
            return
        params = {**self._message_params(message), "Body": message.body, "NumMedia": "0",
                  "NumSegments": str(message.num_segments)}
        result = self.post(message.account_sid, "sms", number.sms_url, number.sms_method, params)
        if not result.ok:
            self.record_error(message.account_sid, result.error_code, result.error_message,
                              result.url, result.method, response_status=result.status,
                              response_body=result.body)
            return
        if not result.body.strip():
            return
        try:
            document = twiml.parse(result.body, result.url, twiml.MESSAGING_VERBS)
        except twiml.TwimlError as exc:
            self.record_error(message.account_sid, exc.code, exc.message, result.url,
                              result.method, response_body=result.body)
            return
        for verb in document.verbs:
            if verb.tag == "Message":
                body = verb.find("Body")
                text = twiml.text_of(body if body is not None else verb)
                reply = self._new_message(message.account_sid, verb.get("from") or message.to,
                                          verb.get("to") or message.from_, text,
                                          "outbound-reply", verb.get("statusCallback", ""))
                self._send_message(reply)
