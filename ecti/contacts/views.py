"""Contact directory: console pages (list, search, add, edit, delete, CSV import) and JSON API."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import func, or_, select

from ..api import api_view
from ..audit.tracking import record_change
from ..errors import UserError
from ..i18n import _
from ..telephony.numbering import format_domestic
from ..web import flash, get_or_404
from .models import Contact, ContactNumber
from .services import ContactData, ContactInvalid, import_csv, save_contact

TAGS = ("contacts",)
PAGE_SIZE = 200
MAX_UPLOAD = 5 * 1024 * 1024


def _search(request, q: str):
    query = select(Contact).order_by(Contact.name, Contact.id)
    q = q.strip()
    if q:
        like = f"%{q}%"
        digits = "".join(c for c in q if c.isdigit())
        conditions = [Contact.name.ilike(like), Contact.company.ilike(like)]
        if len(digits) >= 3:
            # 03-1234… and +813 1234… both find +81312345678: compare the digits after the leading 0.
            conditions.append(Contact.id.in_(select(ContactNumber.contact_id).where(ContactNumber.e164.like(f"%{digits.lstrip('0')}%"))))
        query = query.where(or_(*conditions))
    return request.db.scalars(query.limit(PAGE_SIZE)).all()


def _numbers_text(contact: Contact) -> str:
    return ", ".join(format_domestic(n.e164) for n in contact.numbers)


# --- console ------------------------------------------------------------------------------------

@view_config(route_name="contacts", renderer="ecti:contacts/templates/contacts.jinja2", permission="supervise", request_method="GET")
def contacts_page(request):
    return _page(request, form={}, errors={})


def _page(request, *, form, errors, import_errors=()):
    q = request.params.get("q", "")
    total = request.db.scalar(select(func.count()).select_from(Contact))
    return {"contacts": _search(request, q), "q": q, "total": total, "form": form, "errors": errors,
            "import_errors": import_errors, "numbers_text": _numbers_text}


def _form(request) -> ContactData:
    return ContactData(name=request.POST.get("name", ""), company=request.POST.get("company", ""),
                       numbers=request.POST.get("numbers", ""), note=request.POST.get("note", ""))


@view_config(route_name="contacts", renderer="ecti:contacts/templates/contacts.jinja2", permission="supervise", request_method="POST")
def contacts_create(request):
    data = _form(request)
    try:
        with request.db.begin_nested():
            contact = save_contact(request.db, request.tenant.id, data)
    except ContactInvalid as invalid:
        request.response.status_int = 400
        return _page(request, form=vars(data), errors=invalid.errors)
    flash(request, _("Contact ${name} added.", mapping={"name": contact.name}))
    return HTTPSeeOther(request.route_url("contacts"))


@view_config(route_name="contacts.edit", renderer="ecti:contacts/templates/contact_edit.jinja2", permission="supervise", request_method="GET")
def contact_edit_page(request):
    contact = get_or_404(request, Contact, request.matchdict["id"])
    form = {"name": contact.name, "company": contact.company, "numbers": _numbers_text(contact), "note": contact.note}
    return {"contact": contact, "form": form, "errors": {}}


@view_config(route_name="contacts.edit", renderer="ecti:contacts/templates/contact_edit.jinja2", permission="supervise", request_method="POST")
def contact_edit(request):
    contact = get_or_404(request, Contact, request.matchdict["id"])
    if request.POST.get("action") == "delete":
        request.db.delete(contact)
        flash(request, _("Contact ${name} deleted.", mapping={"name": contact.name}))
        return HTTPSeeOther(request.route_url("contacts"))
    data = _form(request)
    try:
        with request.db.begin_nested():
            save_contact(request.db, request.tenant.id, data, contact)
    except ContactInvalid as invalid:
        request.db.refresh(contact)
        request.response.status_int = 400
        return {"contact": contact, "form": vars(data), "errors": invalid.errors}
    flash(request, _("Contact ${name} saved.", mapping={"name": contact.name}))
    return HTTPSeeOther(request.route_url("contacts"))


@view_config(route_name="contacts.import", renderer="ecti:contacts/templates/contacts.jinja2", permission="supervise", request_method="POST")
def contacts_import(request):
    upload = request.POST.get("file")
    if upload is None or not hasattr(upload, "file"):
        request.response.status_int = 400
        return _page(request, form={}, errors={}, import_errors=[(None, _("Choose a CSV file to import."))])
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        request.response.status_int = 400
        return _page(request, form={}, errors={}, import_errors=[(None, _("The file is larger than 5 MB."))])
    try:
        result = import_csv(request.db, request.tenant.id, data)  # writes nothing when a row is wrong
    except UserError as err:
        request.response.status_int = 400
        return _page(request, form={}, errors={}, import_errors=[(None, err.message)])
    if result.errors:
        request.response.status_int = 400
        return _page(request, form={}, errors={}, import_errors=result.errors)
    record_change(request, "contacts", op="import", after={"file": getattr(upload, "filename", ""), "created": result.created})
    flash(request, _("${count} contact(s) imported.", mapping={"count": result.created}))
    return HTTPSeeOther(request.route_url("contacts"))


# --- JSON API -----------------------------------------------------------------------------------

class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100)
    company: str = Field(default="", max_length=200)
    numbers: list[str] = Field(max_length=10)
    note: str = Field(default="", max_length=2000)


class ContactOut(BaseModel):
    id: int
    name: str
    company: str
    numbers: list[str]
    note: str
    updated_at: datetime


class ContactList(BaseModel):
    contacts: list[ContactOut]


def _out(contact: Contact) -> ContactOut:
    return ContactOut(id=contact.id, name=contact.name, company=contact.company, numbers=[n.e164 for n in contact.numbers],
                      note=contact.note, updated_at=contact.updated_at)


def _save(request, body: ContactIn, contact: Contact | None = None) -> Contact:
    data = ContactData(name=body.name, company=body.company, numbers=body.numbers, note=body.note)
    with request.db.begin_nested():
        return save_contact(request.db, request.tenant.id, data, contact)


@api_view("api.contacts", method="GET", summary="Contacts of the directory (search by name, company or number with ?q=)",
          permission="supervise", response=ContactList, tags=TAGS)
def api_contacts(request):
    return ContactList(contacts=[_out(c) for c in _search(request, request.params.get("q", ""))])


@api_view("api.contacts", method="POST", summary="Add a contact (numbers are stored in E.164)",
          permission="supervise", body=ContactIn, response=ContactOut, status=201, tags=TAGS)
def api_contact_create(request, body: ContactIn):
    return _out(_save(request, body))


@api_view("api.contact", method="GET", summary="One contact", permission="supervise", response=ContactOut, tags=TAGS, errors=(404,))
def api_contact(request):
    return _out(get_or_404(request, Contact, request.matchdict["id"]))


@api_view("api.contact", method="PUT", summary="Replace a contact's fields and numbers",
          permission="supervise", body=ContactIn, response=ContactOut, tags=TAGS, errors=(404,))
def api_contact_update(request, body: ContactIn):
    contact = get_or_404(request, Contact, request.matchdict["id"])
    return _out(_save(request, body, contact))


@api_view("api.contact", method="DELETE", summary="Delete a contact", permission="supervise", status=204, tags=TAGS, errors=(404,))
def api_contact_delete(request):
    request.db.delete(get_or_404(request, Contact, request.matchdict["id"]))
