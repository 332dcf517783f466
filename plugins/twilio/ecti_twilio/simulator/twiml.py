"""Parsing TwiML documents with the standard library's XML parser.

A document that is not well-formed XML, or whose root is not ``<Response>``, fails the way
Twilio fails it: error 12100 (Document parse failure). A verb Twilio does not know is skipped
with warning 12200 (Schema validation warning).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

DOCUMENT_PARSE_FAILURE = 12100
SCHEMA_VALIDATION_WARNING = 12200

#: Verbs the interpreter executes.
VOICE_VERBS = frozenset({
    "Say", "Play", "Pause", "Gather", "Record", "Dial", "Enqueue", "Leave", "Redirect",
    "Hangup", "Reject",
})
#: Verbs of messaging responses.
MESSAGING_VERBS = frozenset({"Message", "Redirect"})
#: Nouns a <Dial> accepts.
DIAL_NOUNS = frozenset({"Number", "Client", "Sip", "Conference", "Queue"})


class TwimlError(Exception):
    """The document cannot be executed."""

    def __init__(self, message: str, code: int = DOCUMENT_PARSE_FAILURE):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Document:
    """A parsed ``<Response>`` with the warnings found while reading it."""

    root: ET.Element
    url: str
    warnings: list = field(default_factory=list)

    @property
    def verbs(self) -> list:
        return list(self.root)


def _strip_namespaces(element: ET.Element) -> None:
    for node in element.iter():
        if isinstance(node.tag, str) and "}" in node.tag:
            node.tag = node.tag.split("}", 1)[1]


def parse(text: str, url: str = "", verbs: frozenset = VOICE_VERBS) -> Document:
    """Parse a TwiML document; raise :class:`TwimlError` (12100) if it is not valid TwiML."""
    if not text or not text.strip():
        raise TwimlError("Document parse failure: empty response body")
    try:
        root = ET.fromstring(text.strip().encode("utf-8"))
    except ET.ParseError as exc:
        raise TwimlError(f"Document parse failure: {exc}") from exc
    _strip_namespaces(root)
    if root.tag != "Response":
        raise TwimlError(f"Document parse failure: root element is <{root.tag}>, "
                         "expected <Response>")
    document = Document(root=root, url=url)
    for verb in root:
        if verb.tag not in verbs:
            document.warnings.append(f"Schema validation warning: unknown verb <{verb.tag}>")
        elif verb.tag == "Dial" and not (verb.text or "").strip() \
                and not any(child.tag in DIAL_NOUNS for child in verb):
            raise TwimlError("Document parse failure: <Dial> has nothing to dial")
    return document


def text_of(element: ET.Element) -> str:
    """The element's text with SSML children (``<prosody>``, ``<break>``…) kept as text."""
    return " ".join("".join(element.itertext()).split())


def flag(element: ET.Element, name: str, default: bool = False) -> bool:
    value = element.get(name)
    return default if value is None else value.strip().lower() == "true"


def number(element: ET.Element, name: str, default: int) -> int:
    value = element.get(name)
    try:
        return int(float(value)) if value not in (None, "") else default
    except ValueError:
        return default


def events(value: str | None, default: tuple = ()) -> tuple:
    """Split an event list attribute (``"initiated ringing"`` or ``"start,end"``)."""
    if not value:
        return default
    return tuple(part for part in value.replace(",", " ").split() if part)
