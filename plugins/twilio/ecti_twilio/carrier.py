"""The Twilio carrier: REST calls with the SDK's ``Client``, softphone tokens, SMS."""
from __future__ import annotations

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from ecti.errors import UserError
from ecti.i18n import _
from ecti.interfaces import CarrierRefused, RecordingMedia, RecordingNotFound, SentMessage

from .rest import make_client

#: Softphone tokens are short-lived; the page asks for a new one before they expire.
TOKEN_TTL_SECONDS = 900

#: Twilio's SMS error codes (REST refusals and delivery reports), explained for people.
SMS_ERRORS = {
    "20003": _("Twilio refused the company's account credentials. Ask your operator to check them."),
    "21211": _("Twilio considers the destination an invalid phone number. Check the number and its country code."),
    "21408": _(
        "The company's Twilio account is not allowed to send SMS to this country. An administrator can enable "
        "the country in the Twilio console (Messaging geographic permissions)."
    ),
    "21606": _(
        "Twilio does not accept the sending number as an SMS-capable number of the company's account for this "
        "destination. Choose another sending number."
    ),
    "21610": _(
        "The recipient has unsubscribed from this number (they replied STOP). They must reply START before they "
        "can receive SMS from it again."
    ),
    "21612": _("Twilio cannot send SMS between these two numbers. Try another sending number."),
    "21614": _("The destination is not a mobile number and cannot receive SMS."),
    "21617": _("The message is longer than Twilio accepts (1,600 characters)."),
    "30003": _("The recipient's phone could not be reached (switched off or out of coverage)."),
    "30004": _("The message was blocked; the recipient may have blocked SMS from this number."),
    "30005": _("The destination number is unknown or no longer in use."),
    "30006": _("The destination is a landline, or its carrier cannot receive SMS."),
    "30007": _("The recipient's carrier filtered the message (for example as spam)."),
    "30008": _("The message could not be delivered, and the carrier did not say why (error 30008)."),
}


def api_base_url(registry) -> str | None:
    """``ecti.twilio.api_base_url``: another base URL for every REST request (the simulator)."""
    return registry.settings.get("ecti.twilio.api_base_url") or None


def client_for(registry, tenant):
    """A REST client authenticated as the tenant's Twilio account."""
    return make_client(tenant.carrier_account_id, tenant.carrier_secret(registry.secret_box), api_base_url(registry))


TWILIO_API = "https://api.twilio.com"
#: Twilio's content types of recording media.
MEDIA_TYPES = {"wav": "audio/x-wav", "mp3": "audio/mpeg"}


def softphone_token(*, account_sid: str, api_key_sid: str, api_key_secret: str, identity: str, app_sid: str, ttl: int = TOKEN_TTL_SECONDS) -> str:
    """An AccessToken for the Voice JS SDK: place calls through the TwiML App, receive calls."""
    token = AccessToken(account_sid, api_key_sid, api_key_secret, identity=identity, ttl=ttl)
    token.add_grant(VoiceGrant(outgoing_application_sid=app_sid, incoming_allow=True))
    return token.to_jwt()


class TwilioCarrier:
    name = "twilio"
    label = _("Twilio")

    def check_credentials(self, *, registry, account_id: str, secret: str) -> None:
        if not account_id.startswith("AC") or len(account_id) != 34:
            raise UserError(
                "invalid_account_sid", _("A Twilio Account SID starts with AC and has 34 characters."), field="account_id", status=422
            )
        client = make_client(account_id, secret, api_base_url(registry))
        try:
            client.incoming_phone_numbers.list(limit=1)
        except TwilioRestException as exc:
            if exc.status in (401, 403):
                raise UserError(
                    "carrier_refused_credentials",
                    _("Twilio refused the Account SID or the Auth Token. Copy both again from the Twilio console."),
                    field="secret",
                    status=422,
                )
            raise UserError("carrier_error", _("Twilio answered with an error: ${error}", mapping={"error": exc.msg}), status=502)
        except (TwilioException, OSError) as exc:
            raise UserError("carrier_unreachable", _("Twilio could not be reached: ${error}", mapping={"error": str(exc)}), status=502)

    def hangup(self, *, request, tenant, carrier_call_id: str) -> None:
        """End a live call."""
        client_for(request.registry, tenant).calls(carrier_call_id).update(status="completed")

    def redirect(self, *, request, tenant, carrier_call_id: str, continuation) -> None:
        """Move a live call to ``continuation`` (e.g. take a waiting caller out of the queue)."""
        from .webhooks import step_url

        client_for(request.registry, tenant).calls(carrier_call_id).update(url=step_url(request, continuation), method="POST")

    # --- the ACD's call control (a Conference per call; see ecti.acd.handlers) ----------------

    def dial_agent(self, *, request, tenant, identity: str, caller_id: str, answer, status, timeout: int) -> str:
        """Ring the agent's browser phone; ``answer`` is fetched when they pick up, ``status``
        gets the leg's progress (answered, completed, busy, no-answer, failed, canceled).
        Returns the new leg's CallSid."""
        return self._place_call(request, tenant, f"client:{identity}", caller_id or "anonymous", answer, status, timeout)

    def dial_number(self, *, request, tenant, to: str, caller_id: str, answer, status, timeout: int) -> str:
        """Call a customer back (queued callback, ecti.acd.callback): ``to`` (E.164, already
        checked with the dialing rules) from ``caller_id`` (one of the company's numbers);
        ``answer`` is fetched when they pick up, ``status`` gets the leg's progress.
        Returns the new call's CallSid."""
        return self._place_call(request, tenant, to, caller_id, answer, status, timeout)

    @staticmethod
    def _place_call(request, tenant, to: str, caller_id: str, answer, status, timeout: int) -> str:
        """A new call whose answer and progress come back to the ACD's continuations."""
        from .webhooks import step_url

        call = client_for(request.registry, tenant).calls.create(
            to=to,
            from_=caller_id,
            url=step_url(request, answer),
            method="POST",
            status_callback=step_url(request, status),
            status_callback_method="POST",
            status_callback_event=["answered", "completed"],
            timeout=timeout,
        )
        return call.sid

    def dialed_leg(self, *, request, tenant, carrier_call_id: str) -> str | None:
        """The live leg that ``carrier_call_id``'s ``<Dial>`` connected (the called party of an
        agent's outgoing call), None while nobody answered."""
        legs = client_for(request.registry, tenant).calls.list(parent_call_sid=carrier_call_id, status="in-progress", limit=1)
        return legs[0].sid if legs else None

    def end_leg(self, *, request, tenant, carrier_call_id: str) -> None:
        """Stop a leg: cancel it while it rings, hang it up once answered."""
        calls = client_for(request.registry, tenant).calls(carrier_call_id)
        try:
            leg = calls.update(status="canceled")
        except TwilioRestException:
            leg = None
        # Twilio ignores ``canceled`` once a call is answered (no error): hang that one up.
        if leg is None or leg.status == "in-progress":
            calls.update(status="completed")

    def _conference_sid(self, client, name: str) -> str:
        found = client.conferences.list(friendly_name=name, status="in-progress", limit=1)
        if not found:
            raise UserError("conference_not_found", _("The call's conference has ended."), status=409)
        return found[0].sid

    def hold(self, *, request, tenant, conference: str, carrier_call_id: str, hold: bool, music=None) -> None:
        """Hold (``music`` plays to the participant) or resume a participant of ``conference``."""
        from .webhooks import step_url

        client = client_for(request.registry, tenant)
        participant = client.conferences(self._conference_sid(client, conference)).participants(carrier_call_id)
        if hold:
            participant.update(hold=True, hold_url=step_url(request, music) if music else None, hold_method="POST" if music else None)
        else:
            participant.update(hold=False)

    def remove_participant(self, *, request, tenant, conference: str, carrier_call_id: str) -> None:
        """Take ``carrier_call_id`` out of ``conference`` (its call ends)."""
        client = client_for(request.registry, tenant)
        client.conferences(self._conference_sid(client, conference)).participants(carrier_call_id).delete()

    def monitor_join(self, *, request, tenant, conference: str, identity: str, caller_id: str, mode: str, agent_leg: str,
                     status) -> str:
        """Ring a supervisor's browser phone into ``conference``: muted (listen), coaching the
        agent's leg (coach) or as a full participant (barge); never ends the conference.
        Returns the supervisor leg's CallSid."""
        from .webhooks import step_url

        client = client_for(request.registry, tenant)
        participant = client.conferences(self._conference_sid(client, conference)).participants.create(
            from_=caller_id or "anonymous", to=f"client:{identity}", label=f"monitor-{identity}",
            muted=mode == "listen", coaching=mode == "coach", call_sid_to_coach=agent_leg if mode == "coach" else None,
            start_conference_on_enter=False, end_conference_on_exit=False, beep="false",
            status_callback=step_url(request, status), status_callback_method="POST",
            status_callback_event=["answered", "completed"],
        )
        return participant.call_sid

    def monitor_mode(self, *, request, tenant, conference: str, carrier_call_id: str, mode: str, agent_leg: str) -> None:
        """Switch a supervisor's participant between listen, coach and barge (Muted / Coaching /
        CallSidToCoach of the Participants update), without dropping the leg."""
        client = client_for(request.registry, tenant)
        participant = client.conferences(self._conference_sid(client, conference)).participants(carrier_call_id)
        if mode == "coach":
            participant.update(muted=False, coaching=True, call_sid_to_coach=agent_leg)
        else:
            participant.update(muted=mode == "listen", coaching=False)

    def call_status(self, *, request, tenant, carrier_call_id: str) -> str | None:
        """The carrier's current status of a call (the ACD reconciler asks), None if unknown."""
        try:
            return client_for(request.registry, tenant).calls(carrier_call_id).fetch().status
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise

    def softphone_credentials(self, *, request, tenant, identity: str) -> dict:
        """Token for the browser phone of ``identity``; needs ``ecti twilio sync`` to have run."""
        from sqlalchemy import select

        from .models import TwilioAccount

        account = request.db.scalar(select(TwilioAccount).where(TwilioAccount.tenant_id == tenant.id))
        if account is None or not account.api_key_sid or not account.twiml_app_sid:
            raise UserError(
                "carrier_not_provisioned",
                _("The company's Twilio account is not set up for the softphone yet. Ask an administrator to run the Twilio sync."),
                status=409,
            )
        token = softphone_token(
            account_sid=tenant.carrier_account_id,
            api_key_sid=account.api_key_sid,
            api_key_secret=request.registry.secret_box.decrypt(account.api_key_secret_encrypted),
            identity=identity,
            app_sid=account.twiml_app_sid,
        )
        return {"token": token, "identity": identity, "ttl_seconds": TOKEN_TTL_SECONDS}

    def send_sms(self, *, request, tenant, from_number: str, to_number: str, body: str, reference: str) -> SentMessage:
        """Messages create with a StatusCallback that brings ``reference`` back (``?ref=``)."""
        from .webhooks import public_base

        callback = public_base(request) + request.route_path("twilio.sms_status", _query={"ref": reference})
        try:
            message = client_for(request.registry, tenant).messages.create(
                to=to_number, from_=from_number, body=body, status_callback=callback
            )
        except TwilioRestException as exc:
            code = str(exc.code) if exc.code else None
            raise CarrierRefused(code, self.sms_error_message(code) if code else None, detail=exc.msg or "") from None
        return SentMessage(carrier_message_id=message.sid, status=message.status or "queued")

    def sms_error_message(self, code: str):
        return SMS_ERRORS.get(str(code))

    # --- recordings (F-REC-2): fetched and deleted with the tenant's credentials -------------

    def fetch_recording(self, *, registry, tenant, carrier_recording_id: str, media_format: str, channels: int | None = None) -> RecordingMedia:
        """``GET /2010-04-01/Accounts/{sid}/Recordings/{RE…}.wav|.mp3`` with HTTP basic auth
        (works whether or not the account enforces authentication on media URLs). A
        dual-channel recording is asked for as such (``RequestedChannels=2``): Twilio serves
        conference recordings down-mixed otherwise."""
        import requests

        base = (api_base_url(registry) or TWILIO_API).rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{tenant.carrier_account_id}/Recordings/{carrier_recording_id}.{media_format}"
        params = {"RequestedChannels": "2"} if channels == 2 and media_format == "wav" else None
        response = requests.get(
            url, params=params, auth=(tenant.carrier_account_id, tenant.carrier_secret(registry.secret_box)), stream=True, timeout=30
        )
        if response.status_code == 404:
            response.close()
            raise RecordingNotFound(carrier_recording_id)
        response.raise_for_status()
        length = response.headers.get("Content-Length")
        return RecordingMedia(
            content_type=MEDIA_TYPES.get(media_format, response.headers.get("Content-Type", "application/octet-stream")),
            length=int(length) if length and length.isdigit() else None,
            chunks=response.iter_content(64 * 1024),
            close=response.close,
        )

    def stop_recording(self, *, registry, tenant, carrier_recording_id: str, carrier_call_id: str | None = None,
                       conference_id: str | None = None) -> None:
        """End a live recording now: ``Status=stopped`` on the call's or the conference's
        recording (Twilio's Recordings resource under Calls/{CA} or Conferences/{CF})."""
        client = client_for(registry, tenant)
        parent = client.conferences(conference_id) if conference_id else client.calls(carrier_call_id)
        parent.recordings(carrier_recording_id).update(status="stopped")

    def delete_recording(self, *, registry, tenant, carrier_recording_id: str) -> None:
        try:
            client_for(registry, tenant).recordings(carrier_recording_id).delete()
        except TwilioRestException as exc:
            if exc.status != 404:  # already gone at Twilio: deleted all the same
                raise
