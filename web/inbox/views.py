"""The inbox tabs, the task page, evidence downloads and marking notices read."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.views import InboxPage
from web.auth import engine, me
from web.inbox import bp
from web.inbox.forms import TABS, clean, page_number, read_filters
from web.inbox.page import INSTANCE_STATES, TASK_STATES, task_page

#: notices shown on the inbox page; the newest first
NOTICES_SHOWN = 10
#: content types a download keeps; anything else goes out as bytes
SAFE_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/gif", "image/webp",
              "application/msword", "application/vnd.ms-excel",
              "application/vnd.ms-powerpoint",
              "application/vnd.openxmlformats-officedocument.", "text/plain; charset=")


@bp.get("/inbox")
@login_required
def index() -> Any:
    eng, who = engine(), me()
    tab = clean(request.args.get("tab") or "todo", 20)
    if tab not in TABS:
        abort(400, description=_("There is no such tab."))
    processes = eng.process_choices()
    orgs = eng.organisations(who)
    filters = read_filters(request.args, processes=[k for k, _n in processes],
                           orgs=[o.code for o in orgs])
    page = eng.inbox(who, tab, **filters.for_engine(ZoneInfo(eng.config.timezone)),
                     page=page_number(request.args), size=current_app.config["PAGE_SIZE"])
    requests = (eng.pending_extension_requests(by=who, limit=20)
                if current_user.is_supervisor else [])
    return render_template(
        "inbox/index.html", tab=tab, page=page, counts=eng.inbox_counts(who), filters=filters,
        processes=processes, orgs=orgs, notices=eng.notifications(who, limit=NOTICES_SHOWN),
        unread=eng.unread_count(who), requests=requests,
        withdrawable=_withdrawable(page) if tab == "done" else set(),
        names=eng.display_names(sorted({r.requested_by for r in requests})),
        task_states=TASK_STATES, instance_states=INSTANCE_STATES)


def _withdrawable(page: InboxPage) -> set[str]:
    """The tasks on a 已办 page the engine would let me withdraw (撤回) now."""
    found = set()
    for row in page.rows:
        if row.maybe_withdrawable and row.task_id:
            task = engine().withdrawable(row.instance_id, by=me())
            if task is not None and task.id == row.task_id:
                found.add(row.task_id)
    return found


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> Any:
    return task_page(engine().task_for(me(), clean(task_id, 64)))


@bp.get("/attachments/<int(max=2147483647):attachment_id>")
@login_required
def attachment(attachment_id: int) -> Any:
    """An evidence file, as a download, for someone who may see its instance."""
    view, content = engine().attachment_content(attachment_id, by=me())
    kind = view.content_type if view.content_type.startswith(SAFE_TYPES) \
        else "application/octet-stream"
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_"
                       for c in view.filename)
    response = Response(content, content_type=kind)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(view.filename)}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/notices/<int(max=2147483647):notice_id>/read")
@login_required
def mark_read(notice_id: int) -> Any:
    engine().mark_read(notice_id, by=me())
    flash(_("The notice is marked as read."), "success")
    return redirect(url_for("inbox.index", _anchor="notices"))


@bp.post("/copies/<int(max=2147483647):copy_id>/read")
@login_required
def mark_copy_read(copy_id: int) -> Any:
    engine().mark_copy_read(copy_id, by=me())
    flash(_("The copy is marked as read."), "success")
    return redirect(url_for("inbox.index", tab="copied"))
