"""Login and logout; users come from the store, passwords are hashed (scrypt).

Sessions end on the server's word (sessions.py), the login redirects only to this site
(redirects.py) and guessing is slowed down per address without locking users out
(workflows.login_throttle, applied by the use case accounts.log_in).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import UserMixin, current_user, login_required, login_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from workflows.domain import Actor

from .. import login_manager, services
from . import redirects, sessions

bp = Blueprint("auth", __name__)
bp.before_app_request(sessions.enforce)


# Compared against when the user does not exist, so both cases take the same time.
_DUMMY_HASH = generate_password_hash("kein-benutzer")


@dataclass
class User(UserMixin):
    username: str
    display_name: str
    organisation: str | None
    groups: list[str]

    def get_id(self) -> str:
        return self.username

    @property
    def actor(self) -> Actor:
        return Actor(self.username, frozenset(self.groups), self.organisation)


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def _user(row: dict) -> User:
    return User(row["username"], row["display_name"], row["organisation"], row["groups"])


@login_manager.user_loader
def load_user(username: str) -> User | None:
    """The session's user, unless deactivated or the session ended (logout on some device,
    new password: the session version was raised)."""
    row = services().session_user(username)
    if row is None or not sessions.is_current(row):
        return None
    return _user(row)


class LoginForm(FlaskForm):
    username = StringField("Benutzername", validators=[DataRequired("Bitte Benutzernamen eingeben."),
                                                         Length(max=100)])
    password = PasswordField("Passwort", validators=[DataRequired("Bitte Passwort eingeben."),
                                                      Length(max=200)])


@bp.route("/anmelden", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form, status = LoginForm(), 200
    if form.validate_on_submit():
        outcome = services().log_in(form.username.data.strip(), request.remote_addr or "unbekannt",
                                    lambda stored: check_password_hash(stored or _DUMMY_HASH, form.password.data))
        if outcome.refused:
            message, seconds = outcome.refused
            flash(message, "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(seconds)}
        if outcome.user:
            sessions.start(outcome.user, services().now())
            login_user(_user(outcome.user))
            return redirect(redirects.safe_next(request.args.get("next")) or url_for("home.index"))
        flash("Benutzername oder Passwort ist falsch.", "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/abmelden", methods=["POST"])
@login_required
def logout():
    """Ends every session of the user, on every device (a copied cookie included)."""
    services().end_sessions(current_user.username)
    sessions.forget()
    flash("Sie wurden abgemeldet – auf allen Geräten: jede Sitzung Ihres Kontos ist beendet.", "info")
    return redirect(url_for("auth.login"))
