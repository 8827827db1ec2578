"""`flask --app webapp privacy export | purge`: information about one person's data and the
deletion run of closed cases, for operators (Administration)."""
from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from workflows import privacy as privacy_module
from workflows.clock import BERLIN
from workflows.domain import Actor, DomainError

privacy = AppGroup("privacy", help="Datenschutz: Auskunft (Art. 15 DSGVO) und Löschlauf (Art. 17 DSGVO).")


def _services():
    return current_app.extensions["workflows"]


def cli_operator() -> Actor:
    """Who runs the command, as the audit names them (the operating system's user)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unbekannt"
    return Actor.system(f"cli:{name}"[:200])


@privacy.command("export")
@click.option("--person", "person_id", type=int, default=None, help="Nummer der Person")
@click.option("--aktenzeichen", default=None, help="…oder das Aktenzeichen eines ihrer Vorgänge")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Datei für die Auskunft (sonst Standardausgabe)")
def export(person_id, aktenzeichen, output) -> None:
    """Alles über eine Person als JSON ausgeben (Art. 15 DSGVO, § 83 SGB X); wird im Verlauf vermerkt."""
    if (person_id is None) == (aktenzeichen is None):
        raise click.ClickException("Bitte genau eines angeben: --person oder --aktenzeichen.")
    services, actor = _services(), cli_operator()
    try:
        if person_id is None:
            person_id = services.person_of_case(aktenzeichen, actor)
        data = privacy_module.export_json(services.export_person(person_id, actor))
    except DomainError as err:
        raise click.ClickException(err.message) from None
    if output is None:
        click.echo(data.decode("utf-8"))
        return
    output.write_bytes(data)
    output.chmod(0o600)
    click.echo(f"Auskunft über Person {person_id} in {output} geschrieben.", err=True)


@privacy.command("purge")
@click.option("--dry-run", is_flag=True, help="Nur anzeigen, was gelöscht würde")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Aufbewahrungsfrist in Tagen (Standard: FF_RETENTION_DAYS)")
def purge(dry_run, days) -> None:
    """Abgeschlossene Vorgänge nach Ablauf der Aufbewahrungsfrist löschen (Art. 17 DSGVO, § 84 SGB X).

    Die Frist (FF_RETENTION_DAYS, Standard 3650 Tage) legt die bzw. der Datenschutzbeauftragte fest.
    Gelöscht werden der Vorgang mit Indexzeilen, Dokumenten und Kommentaren und die Person, wenn kein
    anderer Vorgang auf sie verweist; der Verlauf behält Aktion, Wer, Wann und Aktenzeichen."""
    days = days or current_app.config["RETENTION_DAYS"]
    try:
        result = _services().purge_closed_cases(days, dry_run=dry_run, actor=cli_operator().username)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    cutoff = result.cutoff.astimezone(BERLIN).strftime("%d.%m.%Y")
    period = f"Aufbewahrungsfrist {days} Tag{'' if days == 1 else 'e'}"
    if not result.cases:
        click.echo(f"Keine abgeschlossenen Vorgänge vor dem {cutoff} ({period}).")
        return
    for key in result.cases:
        click.echo(f"  {key}")
    if dry_run:
        click.echo(f"Probelauf: {len(result.cases)} Vorgang/Vorgänge würden gelöscht "
                   f"(abgeschlossen vor dem {cutoff}, {period}).")
    else:
        click.echo(f"{len(result.cases)} Vorgang/Vorgänge und {result.persons} Person(en) gelöscht "
                   f"(abgeschlossen vor dem {cutoff}, {period}).")
