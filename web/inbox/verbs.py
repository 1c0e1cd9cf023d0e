"""The verbs on a task, each a POST calling one engine command (签收, 办理, 转办, 委派, 加签,
退回, 撤回, 抄送, 催办, 延期 …), then a message and a redirect (post/redirect/get).

Every route first asks the engine for the task as the signed-in person sees it
(``Engine.task_for``): a task they may not see answers 404 whatever the verb. A
refusal with reasons (``ValidationError``) shows the task page again with the
reasons beside the fields and what was typed kept (422); ``ConflictError``
(someone acted first) and ``PermissionDenied`` reach ``web/errors.py`` (409, 403).
"""
from __future__ import annotations

from typing import Any, Callable

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import ValidationError
from engine.views import TaskDetailView
from web.auth import engine, me
from web.inbox import bp
from web.inbox.forms import clean, read_task_form, uploads_for
from web.inbox.page import task_page


def _form(name: str) -> str:
    return clean(request.form.get(name))


def _visible(task_id: str) -> TaskDetailView:
    return engine().task_for(me(), clean(task_id, 64))


def act(task_id: str, verb: str, call: Callable[[TaskDetailView], Any],
        message: Callable[[Any], str], to: Callable[[Any], str] | None = None) -> Any:
    """Run one verb on a visible task; on success flash *message* and redirect to *to*
    (default: the task's page); on a refusal with reasons show the page again."""
    detail = _visible(task_id)
    try:
        result = call(detail)
    except ValidationError as err:
        return task_page(detail, status=422, errors=err.fields, verb=verb,
                         values={k: clean(v) for k, v in request.form.items()})
    flash(message(result), "success")
    return redirect(to(result) if to else url_for("inbox.task", task_id=detail.task.id))


def _name(username: str) -> str:
    return engine().display_names([username]).get(username, username)


def _inbox(_result: Any = None) -> str:
    return url_for("inbox.index")


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> Any:
    return act(task_id, "claim", lambda d: engine().claim(d.task.id, by=me()),
               lambda _r: _("You have signed for the task (签收). It is yours to handle."))


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str) -> Any:
    return act(task_id, "unclaim", lambda d: engine().unclaim(d.task.id, by=me()),
               lambda _r: _("You have given the task back (退签)."))


def _upload(detail: TaskDetailView, field: str, uploads: list[Any]) -> list[str]:
    """Attach each upload to the task; their ids. A refused file names *field*."""
    ids = []
    for upload in uploads:
        try:
            view = engine().add_attachment(detail.task.id, upload.filename, upload.read(),
                                           by=me(), content_type=upload.mimetype)
        except ValidationError as err:
            problem = err.fields.get("file") or next(iter(err.fields.values()), "")
            raise ValidationError({field: f"{upload.filename}: {_file_problem(problem)}"}
                                  ) from None
        ids.append(str(view.id))
    return ids


def _file_problem(problem: str) -> str:
    """The engine's reason for refusing a file, in the reader's words."""
    if "is not accepted" in problem:
        return _("this type of file is not accepted (PDF, pictures, Office documents and "
                 "text are)")
    if "the content is not" in problem:
        return _("the content is not what the file name says")
    if "bytes; at most" in problem:
        return _("the file is too large (at most 10 MB)")
    if problem == "is empty":
        return _("the file is empty")
    return _(problem)


@bp.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id: str) -> Any:
    """办理: the form, with the evidence chosen in it uploaded first."""
    detail = _visible(task_id)
    fields = detail.task.form
    uploaded: dict[str, list[str]] = {}
    try:
        for name, files in uploads_for(fields, request.files).items():
            uploaded[name] = _upload(detail, name, files)
        _upload(detail, "file", [f for f in request.files.getlist("file") if f.filename])
        done = engine().complete(detail.task.id, read_task_form(fields, request.form, uploaded),
                                 by=me())
    except ValidationError as err:
        return task_page(detail, status=422, errors=err.fields, verb="complete",
                         values=read_task_form(fields, request.form, uploaded))
    if done.state == "open":
        flash(_("Submitted. The added signers sign next (加签); the task completes after "
                "the last of them."), "success")
        return redirect(url_for("inbox.task", task_id=done.id))
    flash(_("Done: “%(task)s” is completed and goes on to the next step.",
            task=done.name or done.element_id), "success")
    return redirect(url_for("inbox.index"))


@bp.post("/tasks/<task_id>/transfer")
@login_required
def transfer(task_id: str) -> Any:
    to = _form("to")
    return act(task_id, "transfer", lambda d: engine().transfer(
        d.task.id, to, by=me(), comment=_form("comment") or None),
        lambda _r: _("Transferred (转办) to %(name)s.", name=_name(to)), _inbox)


@bp.post("/tasks/<task_id>/delegate")
@login_required
def delegate(task_id: str) -> Any:
    to = _form("to")
    return act(task_id, "delegate", lambda d: engine().delegate(
        d.task.id, to, by=me(), comment=_form("comment") or None),
        lambda _r: _("Delegated (委派) to %(name)s; it comes back to you when done.",
                     name=_name(to)))


@bp.post("/tasks/<task_id>/resolve")
@login_required
def resolve(task_id: str) -> Any:
    return act(task_id, "resolve", lambda d: engine().resolve(
        d.task.id, by=me(), comment=_form("comment") or None),
        lambda _r: _("Handed back (委派归还) to its holder."), _inbox)


@bp.post("/tasks/<task_id>/signers")
@login_required
def add_signer(task_id: str) -> Any:
    names = [clean(u, 64) for u in request.form.getlist("usernames") if clean(u)]
    return act(task_id, "add_signer", lambda d: engine().add_signer(
        d.task.id, names, by=me(), position=_form("position") or "before",
        comment=_form("comment") or None),
        lambda _r: _("Signers added (加签): %(names)s.",
                     names="、".join(_name(n) for n in names)))


@bp.post("/tasks/<task_id>/sign")
@login_required
def sign(task_id: str) -> Any:
    return act(task_id, "sign", lambda d: engine().sign(d.task.id, by=me(),
                                                         opinion=_form("opinion")),
               lambda _r: _("Signed (签署) with your opinion."), _inbox)


@bp.post("/tasks/<task_id>/send-back")
@login_required
def send_back(task_id: str) -> Any:
    return act(task_id, "send_back", lambda d: engine().send_back(
        d.task.id, to_element=_form("to_element") or None, reason=_form("reason"), by=me()),
        lambda r: _("Sent back (退回) to “%(step)s”.", step=r.name or r.element_id), _inbox)


@bp.post("/tasks/<task_id>/withdraw")
@login_required
def withdraw(task_id: str) -> Any:
    return act(task_id, "withdraw", lambda d: engine().withdraw(
        d.task.id, by=me(), reason=_form("reason") or None),
        lambda _r: _("Withdrawn (撤回): the step is back with you."),
        lambda r: url_for("inbox.task", task_id=r.id))


@bp.post("/tasks/<task_id>/copy")
@login_required
def copy(task_id: str) -> Any:
    names = [clean(u, 64) for u in request.form.getlist("recipients") if clean(u)]

    def send(d: TaskDetailView) -> Any:
        where = ({"task_id": d.task.id} if d.task.state == "open"
                 else {"instance_id": d.task.instance_id})
        return engine().copy_to(names, by=me(), note=_form("note") or None, **where)

    return act(task_id, "copy", send, lambda _r: _(
        "Copied (抄送) to %(names)s.", names="、".join(_name(n) for n in names)))


@bp.post("/tasks/<task_id>/urge")
@login_required
def urge(task_id: str) -> Any:
    return act(task_id, "urge", lambda d: engine().urge(d.task.id, by=me(),
                                                         message=_form("message")),
               lambda n: _("Urged (催办): %(count)s people were told.", count=n))


@bp.post("/tasks/<task_id>/extension")
@login_required
def request_extension(task_id: str) -> Any:
    raw = _form("working_days")
    days: Any = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else raw
    return act(task_id, "request_extension", lambda d: engine().request_extension(
        d.task.id, by=me(), reason=_form("reason"), working_days=days),
        lambda _r: _("Your extension request (延期申请) is sent to the supervisors."))


@bp.post("/tasks/<task_id>/comments")
@login_required
def comment(task_id: str) -> Any:
    def add(d: TaskDetailView) -> Any:
        on_task = d.task.id if d.task.state == "open" and d.instance_state == "running" \
            else None
        return engine().add_comment(d.task.instance_id, _form("body"), by=me(),
                                    task_id=on_task)

    return act(task_id, "comment", add, lambda _r: _("Your comment is added."),
               lambda _r: url_for("inbox.task", task_id=task_id, _anchor="timeline"))


@bp.post("/tasks/<task_id>/attachments")
@login_required
def attach(task_id: str) -> Any:
    files = [f for f in request.files.getlist("file") if f and f.filename]

    def upload(d: TaskDetailView) -> list[str]:
        if not files:
            raise ValidationError({"file": "choose at least one file"})
        return _upload(d, "file", files)

    return act(task_id, "attach", upload,
               lambda ids: _("%(count)s evidence files added.", count=len(ids)),
               lambda _r: url_for("inbox.task", task_id=task_id, _anchor="evidence"))


def _back() -> str:
    """The form's ``next`` when it is a path on this site, else the inbox."""
    target = _form("next")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and ":" not in target.split("?")[0]:
        return target
    return url_for("inbox.index")


@bp.post("/extension-requests/<int(max=2147483647):request_id>/decide")
@login_required
def decide_extension(request_id: int) -> Any:
    """A supervisor approves or rejects a pending extension request (延期审批)."""
    decision = _form("decision")
    if decision not in ("approve", "reject"):
        abort(400, description=_("Choose to approve or to reject the request."))
    try:
        engine().decide_extension(request_id, approve=decision == "approve", by=me(),
                                  note=_form("note") or None)
    except ValidationError as err:
        flash(_("The decision was not recorded: %(why)s",
                why="; ".join(_(str(v)) for v in err.fields.values())), "error")
        return redirect(_back())
    flash(_("The extension is approved; the new limit applies.") if decision == "approve"
          else _("The extension request is rejected."), "success")
    return redirect(_back())


@bp.post("/extension-requests/<int(max=2147483647):request_id>/withdraw")
@login_required
def withdraw_extension(request_id: int) -> Any:
    engine().withdraw_extension_request(request_id, by=me())
    flash(_("Your extension request is withdrawn."), "success")
    return redirect(_back())
