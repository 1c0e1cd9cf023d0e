"""The administrator's pages: people, passwords, roles and organisations.

A change that the engine refuses for a bad value shows the page again with the
problem beside the field (422, or 409 for a name already taken).
"""
from __future__ import annotations

import re
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.errors import ConflictError, ValidationError
from web.auth import admin_required, engine, me
from web.admin import bp
from web.form_fields import clean

#: what a username in a link may look like; anything else cannot be a person
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
MAX_PAGE_NUMBER = 100_000
KINDS = {"county": _l("County committee"), "town": _l("Town committee"),
         "office": _l("Office of a town"), "branch": _l("Village or community branch")}


def page_number(args: Any) -> int:
    """``?page=``: 1 for anything that is not a positive number."""
    try:
        page = int(clean(args.get("page"), 12) or "1")
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE_NUMBER)


def _people_page(errors: dict[str, str] | None = None,
                 values: dict[str, str] | None = None) -> str:
    eng, args = engine(), request.args
    size, page = current_app.config["PAGE_SIZE"], page_number(args)
    orgs = eng.organisations(me())
    q = clean(args.get("q"), 100)
    org = clean(args.get("org"), 64)
    org = org if org in {o.code for o in orgs} else ""
    found = eng.people(org=org or None, search=q or None, limit=size + 1,
                       offset=(page - 1) * size)
    return render_template(
        "admin/people.html", people=found[:size], more=len(found) > size, page=page, q=q,
        org=org, orgs=orgs, org_names={o.code: o.name for o in orgs},
        roles=dict(eng.roles()), args={k: v for k, v in (("q", q), ("org", org)) if v},
        errors=errors or {}, values=values or {})


@bp.get("/admin")
@admin_required
def index() -> Any:
    return _people_page()


@bp.post("/admin/people")
@admin_required
def add_person() -> Any:
    values = {"username": clean(request.form.get("username"), 64),
              "name": clean(request.form.get("name"), 200)}
    try:
        engine().add_person(values["username"], values["name"], by=me())
    except ValidationError as err:
        return _people_page(dict(err.fields), values), 422
    except ConflictError:
        return _people_page({"username": _("This username is taken already.")}, values), 409
    flash(_("%(name)s was added. Set a password and grant roles below.", name=values["name"]),
          "success")
    return redirect(url_for("admin.person", username=values["username"]))


def _username(username: str) -> str:
    if not USERNAME.match(username):
        abort(404)
    return username


def _person_page(username: str, errors: dict[str, str] | None = None) -> str:
    eng = engine()
    person = eng.person(_username(username))
    if person is None:
        abort(404)
    orgs = eng.organisations(me())
    return render_template("admin/person.html", person=person, roles=eng.roles(), orgs=orgs,
                           org_names={o.code: o.name for o in orgs}, errors=errors or {},
                           kinds=KINDS)


@bp.get("/admin/people/<username>")
@admin_required
def person(username: str) -> Any:
    return _person_page(username)


def _back(username: str) -> Any:
    return redirect(url_for("admin.person", username=username))


@bp.post("/admin/people/<username>/password")
@admin_required
def set_password(username: str) -> Any:
    password = str(request.form.get("password") or "").replace("\x00", "")
    if password != str(request.form.get("confirm") or "").replace("\x00", ""):
        return _person_page(username, {"confirm": _("The two entries differ.")}), 422
    try:
        engine().set_password(_username(username), password, by=me())
    except ValidationError as err:
        return _person_page(username, dict(err.fields)), 422
    flash(_("The password of %(username)s is set.", username=username), "success")
    return _back(username)


@bp.post("/admin/people/<username>/roles")
@admin_required
def grant_role(username: str) -> Any:
    role, org = clean(request.form.get("role"), 40), clean(request.form.get("org"), 64)
    if not role or not org:
        return _person_page(username, {"grant": _("Choose a role and an organisation.")}), 422
    engine().grant_role(_username(username), role, org, by=me())
    flash(_("The role is granted."), "success")
    return _back(username)


@bp.post("/admin/people/<username>/roles/revoke")
@admin_required
def revoke_role(username: str) -> Any:
    role, org = clean(request.form.get("role"), 40), clean(request.form.get("org"), 64)
    engine().revoke_role(_username(username), role, org, by=me())
    flash(_("The role is revoked."), "success")
    return _back(username)


@bp.post("/admin/people/<username>/active")
@admin_required
def set_active(username: str) -> Any:
    active = request.form.get("active") == "1"
    engine().set_active(_username(username), active, by=me())
    flash(_("%(username)s may sign in and receive tasks again.", username=username) if active
          else _("%(username)s is deactivated: no sign-in, no new tasks.", username=username),
          "success")
    return _back(username)


def _organisations_page(errors: dict[str, str] | None = None,
                        values: dict[str, str] | None = None) -> str:
    return render_template("admin/organisations.html", orgs=engine().organisations(me()),
                           kinds=KINDS, errors=errors or {}, values=values or {})


@bp.get("/admin/organisations")
@admin_required
def organisations() -> Any:
    return _organisations_page()


@bp.post("/admin/organisations")
@admin_required
def add_organisation() -> Any:
    values = {k: clean(request.form.get(k), 200) for k in ("code", "name", "kind", "parent")}
    errors = {}
    if not re.match(r"^[A-Za-z0-9_.\-]{1,64}$", values["code"]):
        errors["code"] = _("1–64 letters, digits, '.', '_' or '-'.")
    if not values["name"]:
        errors["name"] = _("The name is required.")
    if values["kind"] not in KINDS:
        errors["kind"] = _("Choose a kind.")
    if errors:
        return _organisations_page(errors, values), 422
    try:
        engine().add_organisation(values["code"], values["name"], values["kind"],
                                  parent=values["parent"] or None, by=me())
    except ValidationError as err:
        return _organisations_page(dict(err.fields), values), 422
    except ConflictError:
        return _organisations_page({"code": _("This code is taken already.")}, values), 409
    flash(_("%(name)s was added.", name=values["name"]), "success")
    return redirect(url_for("admin.organisations"))
