"""The instance page, its diagram data, the instance list and the managers' actions.

Each action is a POST that calls one engine command, says what happened in a
flash and goes back to the instance page; the engine decides who may act
(``permissions.require_instance_manager``) and answers 403 or 404 otherwise.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import ValidationError
from web.auth import engine, me
from web.form_fields import clean
from web.instances import bp
from web.instances.wording import ITEM_KINDS, sentence
from web.wording import INSTANCE_STATES, ITEM_STATES

#: ids are 32-bit integers in the database: a larger one cannot exist
ID = "int(max=2147483647)"
MAX_PAGE_NUMBER = 100_000


def page_number(args: Mapping[str, str]) -> int:
    """``?page=``: 1 for anything that is not a positive number."""
    try:
        page = int(clean(args.get("page"), 12) or "1")
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE_NUMBER)


def _detail_page(instance_id: int, *, cancel_error: str | None = None,
                 reason: str = "") -> str:
    page = engine().instance_page(me(), instance_id)

    def people(usernames: Iterable[str]) -> str:
        return "、".join(page.names.get(u, u) for u in usernames)

    return render_template(
        "instances/detail.html", page=page, states=INSTANCE_STATES, item_states=ITEM_STATES,
        item_kinds=ITEM_KINDS, sentence=sentence, people=people, cancel_error=cancel_error,
        reason=reason)


@bp.get(f"/instances/<{ID}:instance_id>")
@login_required
def detail(instance_id: int) -> Any:
    return _detail_page(instance_id)


@bp.get(f"/instances/<{ID}:instance_id>/diagram")
@login_required
def diagram(instance_id: int) -> Any:
    """The version's BPMN XML and which elements to mark, for instance-diagram.js."""
    d = engine().diagram(me(), instance_id)
    response = jsonify(xml=d.xml, completed=list(d.completed), active=list(d.active),
                       overdue=list(d.overdue), failed=list(d.failed))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/instances")
@login_required
def index() -> Any:
    args = request.args
    size = current_app.config["PAGE_SIZE"]
    page = page_number(args)
    state = clean(args.get("state"), 20) or None
    filters = {"process": clean(args.get("process"), 200) or None,
               "state": state if state in INSTANCE_STATES else None,
               "org": clean(args.get("org"), 64) or None}
    found = engine().instances(me(), process_key=filters["process"], state=filters["state"],
                               org=filters["org"], limit=size, offset=(page - 1) * size)
    return render_template("instances/list.html", found=found, filters=filters, page=page,
                           pages=max(1, -(-found.total // size)), states=INSTANCE_STATES,
                           args={k: v for k, v in filters.items() if v})


def _back(instance_id: int) -> Any:
    return redirect(url_for("instances.detail", instance_id=instance_id))


@bp.post(f"/instances/<{ID}:instance_id>/suspend")
@login_required
def suspend(instance_id: int) -> Any:
    engine().suspend(instance_id, by=me())
    flash(_("The procedure is suspended: nobody may act on its steps until it is resumed."),
          "success")
    return _back(instance_id)


@bp.post(f"/instances/<{ID}:instance_id>/resume")
@login_required
def resume(instance_id: int) -> Any:
    engine().resume(instance_id, by=me())
    flash(_("The procedure is running again."), "success")
    return _back(instance_id)


@bp.post(f"/instances/<{ID}:instance_id>/cancel")
@login_required
def cancel(instance_id: int) -> Any:
    reason = clean(request.form.get("reason"), 4000)
    try:
        engine().cancel(instance_id, by=me(), reason=reason)
    except ValidationError as err:
        problem = err.fields.get("reason") or str(err)
        return _detail_page(instance_id, cancel_error=problem, reason=reason), 422
    flash(_("The procedure is cancelled."), "success")
    return _back(instance_id)


@bp.post(f"/instances/<{ID}:instance_id>/retry")
@login_required
def retry(instance_id: int) -> Any:
    state = engine().retry(instance_id, by=me())
    if state == "failed":
        flash(_("The step ran again and failed again; see the error below."), "error")
    else:
        flash(_("The failed step ran again; the procedure is %(state)s.",
                state=INSTANCE_STATES.get(state, state)), "success")
    return _back(instance_id)


@bp.post(f"/instances/<{ID}:instance_id>/jobs/<{ID}:job_id>/retry")
@login_required
def retry_job(instance_id: int, job_id: int) -> Any:
    engine().retry_instance_job(instance_id, job_id, by=me())
    flash(_("The job will run again at the next tick."), "success")
    return _back(instance_id)
