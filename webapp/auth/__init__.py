"""Login and logout; users come from the store, passwords are hashed (scrypt)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from workflows.domain import ADMINS, PROCESS_OWNERS, Actor

from .. import login_manager

bp = Blueprint("auth", __name__)

#: Guessing passwords: after this many failures within the window, wait (per name / per address).
LOCKOUT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20


def _now():
    from .. import services
    return services().clock.now()

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
    def sees_board(self) -> bool:
        """Supervisors and process owners see the deadline board."""
        return bool({"Leitung", PROCESS_OWNERS, ADMINS} & set(self.groups))

    @property
    def is_process_owner(self) -> bool:
        return PROCESS_OWNERS in self.groups

    @property
    def actor(self) -> Actor:
        return Actor(self.username, frozenset(self.groups), self.organisation)


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def _store():
    from .. import services
    return services().store


@login_manager.user_loader
def load_user(username: str) -> User | None:
    store = _store()
    with store.read() as conn:
        row = store.user(conn, username)
    if row is None or not row["active"]:
        return None
    return User(row["username"], row["display_name"], row["organisation"], row["groups"])


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
        store, username = _store(), form.username.data.strip()
        address = request.remote_addr or "unbekannt"
        now = _now()
        with store.read() as conn:
            by_user, by_address = store.failed_logins(conn, username=username, address=address,
                                                      since=now - LOCKOUT_WINDOW)
            row = store.user(conn, username)
        if by_user >= MAX_FAILURES_PER_USER or by_address >= MAX_FAILURES_PER_ADDRESS:
            flash("Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten.", "error")
            return render_template("auth/login.html", form=form), 429
        valid = check_password_hash(row["password_hash"] if row else _DUMMY_HASH, form.password.data)
        success = bool(row and row["active"] and valid)
        with store.transaction() as conn:
            store.record_login(conn, username=username, address=address, at=now, success=success)
        if success:
            login_user(load_user(row["username"]))
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/") and not target.startswith("//")
                            else url_for("home.index"))
        flash("Benutzername oder Passwort ist falsch.", "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/abmelden", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("Sie wurden abgemeldet.", "info")
    return redirect(url_for("auth.login"))
