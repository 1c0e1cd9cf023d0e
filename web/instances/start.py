"""发起: choose a process, fill its start form, start it.

The start form is the start event's ``duban:form``; the engine checks what is
sent against it and names each bad field, which the form shows beside the
field (422).
"""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import ValidationError
from web.auth import engine, me
from web.form_fields import clean, fillable, initial, read_fields
from web.instances import bp
from web.instances.wording import ITEM_KINDS

#: the start form's own control (data names never start with "_")
ORG = "_org"


@bp.get("/start")
@login_required
def start() -> Any:
    return render_template("instances/start.html", processes=engine().startable(me()),
                           item_kinds=ITEM_KINDS)


@bp.route("/start/<process_key>", methods=["GET", "POST"])
@login_required
def start_process(process_key: str) -> Any:
    key = clean(process_key, 200)
    form = engine().start_form(me(), key)
    fields = fillable(form.process.form)
    values: dict[str, Any] = initial(fields)
    errors: dict[str, str] = {}
    org = form.default_org
    if request.method == "POST":
        values = read_fields(fields, request.form)
        org = clean(request.form.get(ORG), 64) or form.default_org
        try:
            instance_id = engine().start(key, values, by=me(), org=org)
        except ValidationError as err:
            errors = dict(err.fields) or {"": str(err)}
        else:
            flash(_("Started: %(name)s.", name=form.process.name or key), "success")
            return redirect(url_for("instances.detail", instance_id=instance_id))
    names = {f["name"] for f in fields}
    return render_template(
        "instances/start_form.html", form=form, fields=fields, values=values, errors=errors,
        other_errors={k: v for k, v in errors.items() if k not in names}, org=org,
        org_field=ORG, item_kinds=ITEM_KINDS), 422 if errors else 200
