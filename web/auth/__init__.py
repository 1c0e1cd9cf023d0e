"""Sign-in, sign-out, the interface language and one's own password.

A signed-in person is a :class:`WebUser` wrapping the engine's ``PersonView``;
what they may see and do is decided by the engine (``engine/permissions.py``),
never here.
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from engine.errors import ValidationError
from engine.supervision import SUPERVISOR_ROLES
from engine.views import PersonView
from web.i18n import LANGUAGES

bp = Blueprint("auth", __name__, template_folder="templates")
F = TypeVar("F", bound=Callable[..., Any])


class WebUser(UserMixin):
    def __init__(self, person: PersonView) -> None:
        self.person = person

    def get_id(self) -> str:
        return self.person.username

    @property
    def username(self) -> str:
        return self.person.username

    @property
    def name(self) -> str:
        return self.person.name

    @property
    def role_codes(self) -> set[str]:
        return {role for role, _org in self.person.roles}

    @property
    def is_admin(self) -> bool:
        return "admin" in self.role_codes

    @property
    def is_supervisor(self) -> bool:
        return bool(self.role_codes & SUPERVISOR_ROLES)

    @property
    def is_designer(self) -> bool:
        return bool(self.role_codes & {"designer", "admin"})


def engine() -> Any:
    return current_app.extensions["duban"]


def me() -> str:
    """The signed-in person's username (views are behind login_required)."""
    return current_user.username  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = _l("Please sign in to see this page.")
    manager.login_message_category = "info"

    @manager.user_loader
    def _load(username: str) -> WebUser | None:
        person = app.extensions["duban"].person(username)
        if person is None or not person.active:
            return None
        return WebUser(person)


def admin_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if not current_user.is_admin:
            abort(403, description=_("Only an administrator may open this page."))
        return view(*args, **kwargs)
    return wrapped  # type: ignore[return-value]


def supervisor_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if not current_user.is_supervisor:
            abort(403, description=_("Only supervisors (inspectors, secretaries, leaders) "
                                     "may open this page."))
        return view(*args, **kwargs)
    return wrapped  # type: ignore[return-value]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[Length(max=200)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[EqualTo("password", message=_l("The two entries differ."))])


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute URL an attacker chose."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//"):
            return target
    return url_for("home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    form = LoginForm()
    if form.validate_on_submit():
        person = engine().authenticate(form.username.data.strip(), form.password.data)
        if person is None:
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 401
        lang = session.get("lang")
        session.clear()  # a fresh session at sign-in
        if lang:
            session["lang"] = lang
        login_user(WebUser(person))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/lang/<code>")
def set_language(code: str) -> Any:
    if code not in LANGUAGES:
        abort(404, description=_("No such language."))
    session["lang"] = code
    return redirect(_safe_next(request.form.get("next") or request.referrer and
                               urlsplit(request.referrer).path))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> Any:
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            engine().set_password(me(), form.password.data, by=me(), current=form.current.data)
        except ValidationError as err:
            for name, message in err.fields.items():
                field = getattr(form, "password" if name == "password" else "current")
                field.errors = [*field.errors, _(message)]
        else:
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("home"))
    return render_template("auth/password.html", form=form)
