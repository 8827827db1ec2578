"""Operator commands: `flask --app webapp db upgrade | users create|password|deactivate|unlock | timers run | clock … | demo load | check`."""
from __future__ import annotations

import signal
import threading
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from workflows import worker
from workflows.notifications import SmtpMailer
from workflows.clock import BERLIN
from workflows.domain import GROUPS, Actor, DomainError


def register_cli(app: Flask) -> None:
    for group in (db, users, timers, clock, demo, notify, tokens, check):
        app.cli.add_command(group)
    from .privacy_cli import privacy
    app.cli.add_command(privacy)


def _services():
    return current_app.extensions["workflows"]


@click.command("check")
@with_appcontext
def check() -> None:
    """Jeden Vorgang prüfen: Workflow, Indextabellen und Verlauf müssen übereinstimmen.

    Gibt jede Unstimmigkeit mit Aktenzeichen aus; Rückgabewert 1, wenn es welche gibt."""
    from workflows import consistency
    services = _services()
    cases = services.count_cases()
    problems = consistency.check_all(services)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        affected = len({p.business_key for p in problems})
        click.echo(f"{len(problems)} Unstimmigkeit(en) in {affected} von {cases} Vorgängen gefunden.")
        raise SystemExit(1)
    click.echo(f"{cases} Vorgänge geprüft: Workflow, Indextabellen und Verlauf stimmen überein.")


db = AppGroup("db", help="Datenbank verwalten.")


@db.command("upgrade")
def db_upgrade() -> None:
    """Schema auf den neuesten Stand bringen (Alembic)."""
    _services().migrate_schema()
    click.echo("Datenbank ist auf dem neuesten Stand.")


users = AppGroup("users", help="Benutzer verwalten.")


@users.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Anzeigename")
@click.option("--org", "organisation", default=None, help="Organisation (LVR, LWL, Krankenkasse, Träger)")
@click.option("--group", "groups", multiple=True, type=click.Choice(GROUPS), required=True,
              help="Gruppe (mehrfach möglich)")
@click.option("--email", default=None)
@click.password_option("--password", help="Passwort (wird sonst abgefragt)")
def users_create(username, display_name, organisation, groups, email, password) -> None:
    """Einen Benutzer anlegen."""
    from .auth import hash_password
    _check_password(password)
    try:
        _services().create_user(username=username, display_name=display_name, password_hash=hash_password(password),
                                organisation=organisation, groups=list(groups), email=email)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"Benutzer {username} angelegt.")


def _check_password(password: str) -> None:
    if len(password) < 10:
        raise click.ClickException("Das Passwort muss mindestens 10 Zeichen lang sein.")


def _change_user(username: str, action: str, **changes) -> None:
    """Change a user and end all their web sessions (session version), recorded in the audit
    under the operator's name."""
    from .privacy_cli import cli_operator
    try:
        _services().change_user(username, action, cli_operator().username, **changes)
    except DomainError as err:
        raise click.ClickException(err.message) from None


@users.command("password")
@click.argument("username")
@click.password_option("--password", help="Neues Passwort (wird sonst abgefragt)")
def users_password(username, password) -> None:
    """Ein neues Passwort setzen; alle Sitzungen des Benutzers enden (auf allen Geräten)."""
    from .auth import hash_password
    _check_password(password)
    _change_user(username, "passwort_geaendert", password_hash=hash_password(password))
    click.echo(f"Passwort von {username} geändert; alle Sitzungen von {username} sind beendet.")


@users.command("deactivate")
@click.argument("username")
def users_deactivate(username) -> None:
    """Einen Benutzer deaktivieren: keine Anmeldung mehr, alle Sitzungen enden, API-Tokens werden abgewiesen."""
    _change_user(username, "benutzer_deaktiviert", active=False)
    click.echo(f"Benutzer {username} deaktiviert; alle Sitzungen von {username} sind beendet.")


@users.command("unlock")
@click.argument("username")
def users_unlock(username) -> None:
    """Fehlgeschlagene Anmeldeversuche eines Benutzers löschen, damit er sich sofort wieder anmelden kann."""
    from .privacy_cli import cli_operator
    try:
        cleared = _services().unlock_user(username, cli_operator().username)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"Benutzer {username} entsperrt ({cleared} Fehlversuche gelöscht).")


timers = AppGroup("timers", help="Zeitgesteuerte Ereignisse.")


@timers.command("run")
@click.option("--poll", default=None, type=float, help="Höchstens so viele Sekunden zwischen zwei Runden")
@click.option("--once", is_flag=True, help="Nur fällige Timer auslösen und beenden")
def timers_run(poll, once) -> None:
    """Fällige Timer auslösen, bis SIGTERM/SIGINT kommt."""
    services = _services()
    if once:
        click.echo(f"{worker.run_once(services)} Vorgang/Vorgänge weitergeführt.")
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker.run(services, stop, poll or current_app.config["TIMER_POLL_SECONDS"], mailer=mailer(),
               digest_hour=current_app.config["DIGEST_HOUR"], retention_days=current_app.config["RETENTION_DAYS"])


def mailer() -> SmtpMailer | None:
    """The configured SMTP server, or None (mails then stay queued in the outbox)."""
    config = current_app.config
    if not config["SMTP_HOST"]:
        return None
    return SmtpMailer(config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_FROM"], config["SMTP_STARTTLS"],
                      config["SMTP_USER"], config["SMTP_PASSWORD"])


notify = AppGroup("notify", help="E-Mail-Benachrichtigungen.")


@notify.command("digest")
def notify_digest() -> None:
    """Tägliche Übersicht der bald fälligen Aufgaben je Benutzer einreihen (einmal pro Tag)."""
    click.echo(f"{_services().queue_daily_digests()} Übersicht(en) eingereiht.")


@notify.command("send")
def notify_send() -> None:
    """Eingereihte E-Mails über den konfigurierten SMTP-Server versenden."""
    configured = mailer()
    if configured is None:
        raise click.ClickException("Kein SMTP-Server konfiguriert (FF_SMTP_HOST).")
    sent, failed = _services().deliver_notifications(configured)
    click.echo(f"{sent} versendet, {failed} fehlgeschlagen.")


clock = AppGroup("clock", help="Simulationsuhr (nur Test- und Demobetrieb).")


def _set_clock(moment: datetime | None, frozen: bool = False) -> None:
    try:
        _services().set_simulation_clock(Actor.system("cli"), moment, frozen)
    except DomainError as err:
        raise click.ClickException(err.message) from None


@clock.command("show")
def clock_show() -> None:
    """Aktuelle (simulierte) Zeit anzeigen."""
    now = _services().now().astimezone(BERLIN)
    click.echo(now.strftime("%d.%m.%Y %H:%M:%S %Z"))


@clock.command("set")
@click.argument("moment")
@click.option("--frozen/--running", default=False, help="Zeit anhalten oder ab dort weiterlaufen lassen")
def clock_set(moment, frozen) -> None:
    """Simulierte Zeit setzen, z. B. 2026-05-04T09:00 (deutsche Zeit)."""
    if current_app.config["CLOCK"] != "simulation":
        raise click.ClickException("Die Simulationsuhr ist in dieser Konfiguration ausgeschaltet.")
    try:
        target = datetime.fromisoformat(moment)
    except ValueError:
        raise click.ClickException("Zeitpunkt bitte als JJJJ-MM-TT oder JJJJ-MM-TTTHH:MM angeben.") from None
    if target.tzinfo is None:
        target = target.replace(tzinfo=BERLIN)
    _set_clock(target, frozen)
    click.echo(f"Simulierte Zeit: {target.strftime('%d.%m.%Y %H:%M')}{' (angehalten)' if frozen else ''}")


@clock.command("reset")
def clock_reset() -> None:
    """Zurück zur echten Zeit."""
    _set_clock(None)
    click.echo("Die Uhr zeigt wieder die echte Zeit.")


demo = AppGroup("demo", help="Demodaten.")


@demo.command("load")
def demo_load() -> None:
    """Modelle aus bpmn/ bereitstellen, Demobenutzer und Vorgänge anlegen (nur einmal)."""
    from .demo import load
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("Demodaten werden im Produktivbetrieb nicht geladen.")
    click.echo(load(_services(), current_app.config["BPMN_DIR"]))


tokens = AppGroup("tokens", help="Persönliche API-Tokens (Zugang zu /api/v1).")


@tokens.command("create")
@click.argument("username")
@click.option("--name", "name", required=True, help="Wofür das Token ist, z. B. „Fachverfahren LVR“")
def tokens_create(username, name) -> None:
    """Ein API-Token für einen Benutzer anlegen; es wird nur dieses eine Mal angezeigt."""
    from .api import tokens as api_tokens
    name = name.strip()
    if not name or len(name) > 200:
        raise click.ClickException("Bitte einen Namen (höchstens 200 Zeichen) angeben.")
    try:
        token_id, token = api_tokens.create(_services(), username, name)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"API-Token {token_id} für {username} angelegt. Es wird nur jetzt angezeigt – bitte sicher aufbewahren:")
    click.echo(token)


@tokens.command("list")
def tokens_list() -> None:
    """Alle API-Tokens (ohne die Tokens selbst) mit Benutzer, Name und letzter Nutzung."""
    from .api import tokens as api_tokens

    def when(moment):
        return moment.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M") if moment else "–"

    rows = api_tokens.listing(_services())
    if not rows:
        click.echo("Es gibt keine API-Tokens.")
    for row in rows:
        state = f"widerrufen am {when(row['revoked_at'])}" if row["revoked_at"] else "aktiv"
        click.echo(f"{row['id']:>4}  {row['username']:<20} {row['name']:<30} angelegt {when(row['created_at'])}"
                   f"  zuletzt genutzt {when(row['last_used_at'])}  {state}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id) -> None:
    """Ein API-Token widerrufen (Nummer aus `tokens list`)."""
    from .api import tokens as api_tokens
    try:
        revoked = api_tokens.revoke(_services(), token_id)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"API-Token {token_id} widerrufen." if revoked else f"API-Token {token_id} war bereits widerrufen.")
