"""Salesforce settings logic: domain checks, origin matching, the call center definition file."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select

from ecti.errors import UserError
from ecti.i18n import _

from .models import SalesforceSettings

#: The Open CTI API version of the scripts loaded from Salesforce (``ecti.salesforce.api_version``).
DEFAULT_API_VERSION = "62.0"
#: Domains Salesforce serves orgs, Lightning, Visualforce and Setup from.
SALESFORCE_SUFFIXES = (
    "salesforce.com", "force.com", "visualforce.com", "salesforce-setup.com", "salesforce-sites.com", "cloudforce.com",
)
#: Domains under which Salesforce serves many orgs: never a wildcard over them, nor one of them itself.
SHARED_DOMAINS = frozenset({
    "salesforce.com", "force.com", "visualforce.com", "salesforce-setup.com", "salesforce-sites.com", "cloudforce.com",
    "my.salesforce.com", "lightning.force.com", "vf.force.com", "visual.force.com", "my.salesforce-setup.com",
    "my.salesforce-sites.com", "my.site.com", "site.com", "vf.visualforce.com", "secure.force.com",
    *(f"{kind}.{base}" for kind in ("sandbox", "develop", "scratch", "demo", "patch", "trailblaze")
      for base in ("my.salesforce.com", "lightning.force.com", "vf.force.com", "my.salesforce-setup.com", "my.site.com",
                   "my.salesforce-sites.com")),
})
#: A company's own My Domain (``acme.my.salesforce.com``, ``acme--uat.sandbox.lightning.force.com``…):
#: the only place a wildcard may stand (``*.acme.my.salesforce.com``).
_MY_DOMAIN = re.compile(
    r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.(?:(?:sandbox|develop|scratch|demo|patch|trailblaze)\.)?"
    r"(?:my\.salesforce\.com|lightning\.force\.com|my\.salesforce-setup\.com|my\.site\.com|my\.salesforce-sites\.com)$"
)
#: This machine: allowed (also over http) for a local stand-in of Salesforce in development and tests.
LOOPBACK = ("localhost", "127.0.0.1")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_INTERNAL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,39}$")
MAX_DOMAINS = 20


class DomainError(UserError):
    def __init__(self, text: str, message):
        super().__init__("salesforce_domain", _("${domain}: ${error}", mapping={"domain": text, "error": message}), field="domains")


def _host_ok(host: str) -> bool:
    labels = host.split(".")
    return all(_LABEL.match(label) for label in labels)


def normalise_domain(text: str) -> str:
    """``mycompany.my.salesforce.com`` → ``https://mycompany.my.salesforce.com`` (a CSP source).

    Accepts an optional ``https://``, a leading ``*.`` wildcard and a port; only Salesforce's
    domains, or this machine (``localhost``/``127.0.0.1``, also over http) for a local stand-in.
    """
    raw = text.strip()
    value = raw.lower().rstrip("/")
    scheme = "https"
    if "://" in value:
        scheme, value = value.split("://", 1)
    if not value or any(c in value for c in "/?#@ \t"):
        raise DomainError(raw, _("Enter a domain name only, like mycompany.my.salesforce.com."))
    host, port = value, None
    if ":" in value:
        host, port = value.rsplit(":", 1)
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise DomainError(raw, _("The port must be a number from 1 to 65535."))
    wildcard = host.startswith("*.")
    bare = host[2:] if wildcard else host
    if not _host_ok(bare):
        raise DomainError(raw, _("This is not a valid domain name."))
    if bare in LOOPBACK:
        if wildcard or scheme not in ("http", "https"):
            raise DomainError(raw, _("This is not a valid domain name."))
    else:
        if scheme != "https":
            raise DomainError(raw, _("Salesforce is only reached over https."))
        suffix = next((s for s in SALESFORCE_SUFFIXES if bare == s or bare.endswith("." + s)), None)
        if suffix is None:
            raise DomainError(raw, _("Only Salesforce domains (…salesforce.com, …force.com, …visualforce.com and the like) may show the softphone."))
        # A domain many orgs share, or a wildcard over one (*.my.salesforce.com, *.visualforce.com:
        # any Salesforce customer can get a name there), is not one company's.
        if bare in SHARED_DOMAINS:
            raise DomainError(raw, _("Enter your company's own Salesforce domain, like mycompany.my.salesforce.com."))
        if wildcard and not _MY_DOMAIN.match(bare):
            raise DomainError(raw, _("A wildcard (*.) may only stand under your company's own My Domain, like *.mycompany.my.salesforce.com. Enter the other domains exactly."))
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def usable_domains(sources: list[str]) -> list[str]:
    """The saved sources that today's rules still accept (a ``*.visualforce.com`` saved before
    wildcards over shared domains were refused no longer lets every org in)."""
    out = []
    for source in sources or ():
        try:
            if normalise_domain(source) == source:
                out.append(source)
        except DomainError:
            pass
    return out


def parse_domains(text: str) -> list[str]:
    """One domain per line (or separated by commas or spaces), normalised, duplicates dropped."""
    out: list[str] = []
    for part in re.split(r"[\s,、]+", text or ""):
        if part:
            source = normalise_domain(part)
            if source not in out:
                out.append(source)
    if len(out) > MAX_DOMAINS:
        raise UserError("salesforce_domains", _("At most ${max} domains.", mapping={"max": MAX_DOMAINS}), field="domains")
    return out


def origin_allowed(origin: str, sources: list[str]) -> bool:
    """Is ``origin`` (``https://x.lightning.force.com``) one of the configured sources?"""
    try:
        parts = urlsplit(origin)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return False
    if not host or parts.path not in ("", "/") or parts.query or parts.username:
        return False
    for source in sources:
        src = urlsplit(source.replace("*.", "wildcard-.", 1))
        wildcard = src.hostname.startswith("wildcard-.")
        base = src.hostname[len("wildcard-."):] if wildcard else src.hostname
        if src.scheme != parts.scheme or src.port != port:
            continue
        if (host.endswith("." + base) if wildcard else host == base):
            return True
    return False


# --- settings ---------------------------------------------------------------------------------

@dataclass
class Defaults:
    internal_name: str
    display_name: str
    softphone_height: int = 500
    softphone_width: int = 300


def defaults(tenant) -> Defaults:
    alnum = re.sub(r"[^A-Za-z0-9]", "", tenant.slug.title())
    return Defaults(internal_name=("ECTI" + alnum)[:40], display_name=f"ECTI {tenant.name}"[:80])


def settings_of(db, tenant) -> SalesforceSettings | None:
    return db.scalar(select(SalesforceSettings).where(SalesforceSettings.tenant_id == tenant.id))


def check_settings(form: dict) -> tuple[dict, dict]:
    """Check the settings form; return (values, errors by field)."""
    errors: dict = {}
    values: dict = {}
    try:
        values["domains"] = parse_domains(form.get("domains", ""))
    except UserError as err:
        errors["domains"] = err.message
    name = form.get("internal_name", "").strip()
    if not _INTERNAL_NAME.match(name):
        errors["internal_name"] = _("The internal name is 1 to 40 letters and digits, starting with a letter (no spaces).")
    values["internal_name"] = name
    display = form.get("display_name", "").strip()
    if not display or len(display) > 80:
        errors["display_name"] = _("Enter a display name of at most 80 characters.")
    values["display_name"] = display
    for key, low, high in (("softphone_height", 200, 1200), ("softphone_width", 200, 1000)):
        text = str(form.get(key, "")).strip()
        if not text.isdigit() or not low <= int(text) <= high:
            errors[key] = _("Enter a number of pixels from ${low} to ${high}.", mapping={"low": low, "high": high})
        else:
            values[key] = int(text)
    return values, errors


# --- URLs and the call center definition file --------------------------------------------------

def public_base(request) -> str:
    return (request.registry.settings.get("ecti.public_url") or request.host_url).rstrip("/")


def adapter_url(request, tenant) -> str:
    """The softphone as Salesforce opens it: the tenant is named so the sign-in page in the frame
    already allows the tenant's Salesforce domains."""
    return public_base(request) + "/softphone?" + urlencode({"tenant": tenant.slug})


def standby_url(request, tenant) -> str:
    return public_base(request) + "/salesforce/standby?" + urlencode({"tenant": tenant.slug})


def api_version(request) -> str:
    return request.registry.settings.get("ecti.salesforce.api_version") or DEFAULT_API_VERSION


def script_url(request, origin: str, lightning: bool) -> str:
    version = api_version(request)
    path = f"/support/api/{version}/lightning/opencti_min.js" if lightning else f"/support/api/{version}/interaction.js"
    return origin.rstrip("/") + path


def call_center_xml(request, tenant, settings) -> bytes:
    """The call center definition file (Setup → Call Centers → Import), built as XML."""
    values = settings or defaults(tenant)
    root = ET.Element("callCenter")
    section = ET.SubElement(root, "section", sortOrder="0", name="reqGeneralInfo", label="General Information")
    items = [
        ("reqInternalName", "Internal Name", values.internal_name),
        ("reqDisplayName", "Display Name", values.display_name),
        ("reqDescription", "Description", "ECTI softphone (Open CTI)"),
        ("reqAdapterUrl", "CTI Adapter URL", adapter_url(request, tenant)),
        ("reqUseApi", "Use CTI API", "false"),
        ("reqSoftphoneHeight", "Softphone Height", str(values.softphone_height)),
        ("reqSoftphoneWidth", "Softphone Width", str(values.softphone_width)),
        ("reqSalesforceCompatibilityMode", "Salesforce Compatibility Mode", "Classic_and_Lightning"),
        ("reqStandbyUrl", "Standby URL", standby_url(request, tenant)),
        ("reqTimeout", "Timeout", "10000"),
    ]
    for order, (name, label, value) in enumerate(items):
        item = ET.SubElement(section, "item", sortOrder=str(order), name=name, label=label)
        item.text = value
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)
