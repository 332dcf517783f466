"""What a Twilio webhook's parameters may look like, checked in one place (issue 19).

A signed request is Twilio's, but a signature says nothing about the values: a request without
a CallSid, a 10,000-character From or a 30-digit CallDuration is not something Twilio sends,
and ECTI answers it with 400 and writes nothing. Only the parameters ECTI reads are checked;
Twilio adds new ones over time and those are left alone (the request size limit bounds them).
"""
from __future__ import annotations

import re

_HEX32 = r"[0-9a-fA-F]{32}"


def _sid(*prefixes: str) -> re.Pattern:
    return re.compile(rf"(?:{'|'.join(prefixes)}){_HEX32}")


#: A party: E.164, a national number as an agent types it, ``client:identity``, a SIP URI,
#: or a word Twilio uses for a withheld number (anonymous, restricted, unknown …).
ADDRESS = re.compile(r"\+?[0-9][0-9 ()\-.#*]{0,31}|client:[A-Za-z0-9_.@+\-]{1,128}|sips?:\S{1,250}|[A-Za-z]{1,32}")
INTEGER = re.compile(r"-?[0-9]{1,9}")
WORD = re.compile(r"[A-Za-z][A-Za-z\-_]{0,31}")

#: name → (pattern the whole value must match, or None for any text; the longest value).
RULES: dict[str, tuple[re.Pattern | None, int]] = {
    "AccountSid": (_sid("AC"), 34),
    "CallSid": (_sid("CA"), 34),
    "ParentCallSid": (_sid("CA"), 34),
    "DialCallSid": (_sid("CA"), 34),
    "CallSidEndingConference": (_sid("CA"), 34),
    "ConferenceSid": (_sid("CF"), 34),
    "QueueSid": (_sid("QU"), 34),
    "ApplicationSid": (_sid("AP"), 34),
    "RecordingSid": (_sid("RE"), 34),
    "MessageSid": (_sid("SM", "MM"), 34),
    "SmsSid": (_sid("SM", "MM"), 34),
    "SmsMessageSid": (_sid("SM", "MM"), 34),
    "From": (ADDRESS, 256),
    "To": (ADDRESS, 256),
    "Called": (ADDRESS, 256),
    "Caller": (ADDRESS, 256),
    "CallerId": (ADDRESS, 256),
    "Digits": (re.compile(r"[0-9*#wW]{0,64}|hangup|timeout"), 64),
    "CallStatus": (WORD, 32),
    "DialCallStatus": (WORD, 32),
    "QueueResult": (WORD, 32),
    "RecordingStatus": (WORD, 32),
    "MessageStatus": (WORD, 32),
    "SmsStatus": (WORD, 32),
    "Direction": (WORD, 32),
    "CallDuration": (INTEGER, 10),
    "DialCallDuration": (INTEGER, 10),
    "QueueTime": (INTEGER, 10),
    "QueuePosition": (INTEGER, 10),
    "RecordingDuration": (INTEGER, 10),
    "RecordingChannels": (INTEGER, 10),
    "NumSegments": (INTEGER, 10),
    "NumMedia": (INTEGER, 10),
    "SequenceNumber": (INTEGER, 10),
    "ErrorCode": (re.compile(r"[0-9]{0,9}"), 9),
    "ErrorMessage": (None, 500),
    "RecordingUrl": (re.compile(r"https?://\S+"), 500),
    # Twilio delivers at most 1,600 characters of an SMS (longer ones arrive in parts).
    "Body": (None, 1600),
}

#: The parameters every request to a route must carry (one of each tuple). Continuations
#: (``/step/…``) require none: some of Twilio's callbacks there come without a CallSid (a
#: conference's own events, its recordings) and name ECTI's call in the URL instead.
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "twilio.incoming": (("CallSid",), ("From",), ("To",)),
    "twilio.client": (("CallSid",), ("From",)),
    "twilio.status": (("CallSid",), ("CallStatus",)),
    "twilio.sms_incoming": (("MessageSid", "SmsSid"), ("From",), ("To",)),
    "twilio.sms_status": (("MessageSid", "SmsSid"), ("MessageStatus", "SmsStatus")),
}


def problems(route: str | None, params: dict) -> list[str]:
    """What is wrong with ``params`` of a request to ``route`` (empty when nothing is)."""
    found = []
    for names in REQUIRED.get(route or "", ()):
        if not any(params.get(name) for name in names):
            found.append(f"{' or '.join(names)} missing")
    for name, (pattern, longest) in RULES.items():
        value = params.get(name)
        if value is None or value == "":
            continue
        if len(value) > longest:
            found.append(f"{name} longer than {longest} characters")
        elif pattern is not None and not pattern.fullmatch(value):
            found.append(f"{name} is not what Twilio sends")
    return found
