"""The supervisor's dashboard, its drill-down list of open steps, and 催办 (urging)."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import ConflictError, ValidationError
from web.auth import engine, me, supervisor_required
from web.supervision import bp
from web.supervision.params import (
    arg, back_to, here, link_args, month_label, page_number, percent, task_filters, text,
)
from web.supervision.reasons import explain

#: overdue steps listed on the dashboard itself; the drill-down lists them all
OVERDUE_SHOWN = 20
#: what a one-click 催办 says. Not translated on purpose: it is sent to the holder,
#: whose language the supervisor's screen does not decide, and cadres work in Chinese.
DEFAULT_URGE_MESSAGE = "请抓紧办理，按时限要求完成并及时反馈办理情况。"


@bp.context_processor
def _helpers() -> dict[str, Any]:
    kinds = {"problem": _("Problem"), "matter": _("Assigned matter"),
             "petition": _("Petition case")}
    states = {"open": _("Open (not closed)"), "registered": _("Registered"),
              "assigned": _("Being assigned"), "rectifying": _("Rectifying"),
              "reviewing": _("Under review"), "closed": _("Closed (销号)"),
              "cancelled": _("Cancelled")}
    return {"month_label": month_label, "percent": percent, "link_args": link_args,
            "here": here, "explain": explain, "kind_names": kinds, "state_names": states}


@bp.get("/supervision")
@supervisor_required
def dashboard() -> Any:
    scope = engine().report_scope(me(), org=arg("org"))
    board = engine().dashboard(me(), org=scope.org.code)
    overdue = engine().overdue_tasks(me(), org=scope.org.code, limit=OVERDUE_SHOWN)
    chart = {
        "units": [u.name for u in board.units],
        "series": [{"key": light, "name": name,
                    "data": [getattr(u.items, light) for u in board.units]}
                   for light, name in (("red", _("Overdue")), ("yellow", _("Due soon")),
                                       ("green", _("On track")))],
    }
    return render_template("supervision/dashboard.html", scope=scope, board=board,
                           overdue=overdue, chart=chart)


@bp.get("/supervision/tasks")
@supervisor_required
def tasks() -> Any:
    scope = engine().report_scope(me(), org=arg("org"))
    filters = task_filters()
    page, size = page_number(), 50
    try:
        found = engine().supervised_tasks(me(), org=scope.org.code, limit=size,
                                          offset=(page - 1) * size, **filters)
    except ValidationError as err:
        return render_template("supervision/tasks.html", scope=scope, filters=filters,
                               found=None, errors=err.fields, page=1, pages=1), 422
    pages = max((found.total + size - 1) // size, 1)
    return render_template("supervision/tasks.html", scope=scope, filters=filters, found=found,
                           errors={}, page=page, pages=pages)


@bp.post("/supervision/tasks/<task_id>/urge")
@supervisor_required
def urge(task_id: str) -> Any:
    """催办: one click sends the default message; a typed message replaces it."""
    if "\x00" in task_id:
        abort(404)
    message = text(request.form.get("message")) or DEFAULT_URGE_MESSAGE
    try:
        reached = engine().urge(task_id, by=me(), message=message)
    except ConflictError:
        flash(_("This step has been completed or closed meanwhile; nobody was urged."),
              "warning")
    except ValidationError as err:
        reasons = "; ".join(explain(v) for v in err.fields.values())
        flash(_("Not urged: %(reason)s", reason=reasons), "error")
    else:
        flash(_("Urged: %(count)s people were reminded.", count=reached), "success")
    return redirect(back_to(url_for("supervision.dashboard")), code=303)
