"""The monthly circular (一月一通报): the list, generating one, the printable page, Excel."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import ValidationError
from web.auth import engine, me, supervisor_required
from web.supervision import bp
from web.supervision.params import arg, last_month, month_label, page_number, xlsx_response

PAGE_SIZE = 50


def _list_page(org: str | None, errors: dict[str, str], status: int = 200) -> Any:
    scope = engine().report_scope(me(), org=org)
    page = page_number()
    found = engine().list_circulars(me(), org=scope.org.code, limit=PAGE_SIZE,
                                    offset=(page - 1) * PAGE_SIZE)
    month = request.form.get("month") or last_month(scope.today)
    names = engine().display_names(sorted({c.generated_by for c in found}))
    return render_template("supervision/circulars.html", scope=scope, circulars=found,
                           page=page, more=len(found) == PAGE_SIZE, month=month,
                           errors=errors, names=names), status


@bp.get("/circulars")
@supervisor_required
def circulars() -> Any:
    return _list_page(arg("org"), {})


@bp.post("/circulars")
@supervisor_required
def generate_circular() -> Any:
    """Generate (compute and store) an organisation's circular for a month."""
    org, month = arg("org", request.form), arg("month", request.form)
    if org is None:
        org = engine().report_scope(me()).org.code
    try:
        made = engine().generate_circular(org, month or "", by=me())
    except ValidationError as err:
        return _list_page(org, err.fields, 422)
    flash(_("The circular for %(month)s has been generated.", month=month_label(made.month)),
          "success")
    return redirect(url_for("supervision.circular", circular_id=made.id), code=303)


@bp.get("/circulars/<int:circular_id>")
@supervisor_required
def circular(circular_id: int) -> Any:
    view = engine().get_circular(circular_id, username=me())
    chart = {"months": [month_label(p.month) for p in view.trend],
             "rate": [None if p.counts.on_time_rate is None
                      else round(p.counts.on_time_rate * 100, 1) for p in view.trend],
             "due": [p.counts.due for p in view.trend],
             "names": {"rate": _("On-time rate (%)"), "due": _("Due")}}
    names = engine().display_names([view.generated_by])
    return render_template("supervision/circular.html", view=view, chart=chart, names=names)


@bp.get("/circulars/<int:circular_id>.xlsx")
@supervisor_required
def circular_excel(circular_id: int) -> Any:
    view = engine().get_circular(circular_id, username=me())
    content = engine().export_circular(circular_id, username=me())
    return xlsx_response(content, f"{view.org_name}{view.month}督查督办通报.xlsx")
