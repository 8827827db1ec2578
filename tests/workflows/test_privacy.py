"""Data protection of children's cases (workflows.privacy), on SQLite and PostgreSQL: person data
only in `persons`, access logging (§ 35 SGB I), the export of one person (Art. 15 DSGVO) and the
deletion run after the retention period (Art. 17 DSGVO, § 84 SGB X). Time moves only by the clock."""
import base64
import json
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from workflows import privacy
from workflows import store as tables
from workflows.clock import BERLIN
from workflows.domain import ADMINS, Actor, Forbidden, InvalidInput, NotFound
from workflows.services import NewDocument
from workflows.worker import purge as daily_purge
from workflows.worker import run_once

from ..helpers import KIND, PARTIES_LVR, SACHBEARBEITUNG_LVR, SACHBEARBEITUNG_LWL, SYSTEM, count_rows, finish

ADMIN = Actor("dora.datenschutz", frozenset({ADMINS}), None)
#: the parts of helpers.KIND (names that appear nowhere else in the code base or the models)
SECRETS = ("Xaveria", "Quellenreuther", "Zypressenpfad", "50733", "Nippes", "2023-06-01", "01.06.2023")


@pytest.fixture
def five(services, deploy):
    deploy("fuenf_schritte.bpmn")
    return services


def audit(store, **where):
    with store.read() as conn:
        query = sa.select(tables.audit_events).order_by(tables.audit_events.c.id)
        for column, value in where.items():
            query = query.where(tables.audit_events.c[column] == value)
        return [dict(r._mapping) for r in conn.execute(query)]


# --- person data kept apart --------------------------------------------------------------------

def test_a_childs_identity_appears_in_no_table_but_persons(services, deploy, clock, store):
    """Workflow JSON, titles, index tables, audit details and notification mails (an escalation
    and a daily digest) carry no name, address or birth date of the child."""
    deploy("fristpruefung.bpmn", "pruefen.json")
    with store.transaction() as conn:
        for name, groups in (("lena", ["Leitung"]), ("sabine.lvr", ["EGH-Sachbearbeitung"])):
            store.add_user(conn, username=name, display_name=name, password_hash="x", organisation="LVR",
                           groups=groups, email=f"{name}@example.org")
    clock.set(datetime(2026, 1, 5, 9, tzinfo=BERLIN))
    services.start_case("fristpruefung", "LVR-P-1", {"eingang_am": "2026-01-03"}, SACHBEARBEITUNG_LVR,
                        parties=PARTIES_LVR, person=KIND)
    services.case("LVR-P-1", SACHBEARBEITUNG_LVR)
    services.update_person("LVR-P-1", {**KIND, "strasse": "Zypressenpfad 18"}, SACHBEARBEITUNG_LVR)
    services.add_document("LVR-P-1", NewDocument("FuB.pdf", "application/pdf", b"%PDF-1.4 Befund"),
                          SACHBEARBEITUNG_LVR)
    services.export_person(services.case("LVR-P-1", SACHBEARBEITUNG_LVR)["person"]["id"], ADMIN)
    clock.set(datetime(2026, 3, 30, 8, tzinfo=BERLIN))
    assert services.queue_daily_digests() == 1
    clock.set(datetime(2026, 4, 4, 8, tzinfo=BERLIN))
    assert run_once(services) == 1                                     # escalation mail to Leitung
    assert count_rows(store, tables.notifications) == 2
    assert count_rows(store, tables.persons) == 1
    with store.read() as conn:
        for table in tables.metadata.sorted_tables:
            if table is tables.persons:
                continue
            for row in conn.execute(sa.select(table)):
                text = " ".join(str(v) for v in row)
                leaked = [s for s in SECRETS if s in text]
                assert not leaked, f"{table.name}: {leaked}"
        person = conn.execute(sa.select(tables.persons)).one()
    assert (person.kind_nachname, person.strasse, person.kind_geburtsdatum) == (
        "Quellenreuther", "Zypressenpfad 18", date(2023, 6, 1))


def test_person_data_are_validated_in_german(five):
    with pytest.raises(InvalidInput) as err:
        five.start_case("fuenf_schritte", "P-1", {}, SACHBEARBEITUNG_LVR, person={
            "kind_vorname": " ", "kind_geburtsdatum": "2099-01-01", "plz": "5073", "strasse": "Weg 1"})
    fields = err.value.details["fields"]
    assert fields["kind_vorname"] == "Vorname des Kindes: Bitte angeben."
    assert fields["kind_nachname"] == "Nachname des Kindes: Bitte angeben."
    assert fields["kind_geburtsdatum"] == "Geburtsdatum des Kindes: Das Datum liegt in der Zukunft."
    assert fields["plz"] == "Postleitzahl: Bitte fünf Ziffern angeben."
    assert "vollständig" in fields["ort"] and "vollständig" in fields["erziehungsberechtigte"]
    with pytest.raises(InvalidInput, match="TT.MM.JJJJ"):
        five.start_case("fuenf_schritte", "P-1", {}, SACHBEARBEITUNG_LVR,
                        person={**KIND, "kind_geburtsdatum": "1.6.23x"})
    with pytest.raises(InvalidInput, match="Unbekannte Angabe"):
        five.start_case("fuenf_schritte", "P-1", {}, SACHBEARBEITUNG_LVR, person={**KIND, "diagnose": "F83"})
    with pytest.raises(InvalidInput, match="gehört nicht in die Vorgangsdaten"):
        five.start_case("fuenf_schritte", "P-1", {"kind_name": "Xaveria"}, SACHBEARBEITUNG_LVR)
    assert count_rows(five.store, tables.instances) == 0 and count_rows(five.store, tables.persons) == 0
    ref = five.start_case("fuenf_schritte", "P-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR,
                          person={**KIND, "kind_geburtsdatum": "01.06.2023", "erziehungsberechtigte": "",
                                  "strasse": None, "plz": None, "ort": None})
    person = five.case("P-1", SACHBEARBEITUNG_LVR)["person"]
    assert person["kind_geburtsdatum"] == date(2023, 6, 1) and person["strasse"] is None
    with pytest.raises(InvalidInput, match="gehört nicht in die Vorgangsdaten"):
        five.complete_task(ref.open_tasks[0]["task_id"], {"kind_nachname": "Q"}, SACHBEARBEITUNG_LVR)


def test_correction_by_the_people_working_the_case_audits_fields_not_values(five):
    five.start_case("fuenf_schritte", "P-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR, person=KIND)
    with pytest.raises(NotFound):
        five.update_person("P-1", {**KIND, "ort": "Bonn"}, SACHBEARBEITUNG_LWL)
    with pytest.raises(NotFound):                     # a stranger learns nothing, not even what is wrong
        five.update_person("P-1", {"kind_vorname": "", "plz": "x"}, SACHBEARBEITUNG_LWL)
    changed = five.update_person("P-1", {**KIND, "strasse": "Rosenweg 2", "plz": "53111", "ort": "Bonn"},
                                 SACHBEARBEITUNG_LVR)
    assert changed == ["strasse", "plz", "ort"]
    assert five.update_person("P-1", {**KIND, "strasse": "Rosenweg 2", "plz": "53111", "ort": "Bonn"},
                              SACHBEARBEITUNG_LVR) == []                              # nothing changed
    [event] = audit(five.store, action="personendaten_geaendert")
    assert (event["actor"], json.loads(event["details"])) == ("sabine.lvr", {"felder": ["strasse", "plz", "ort"]})
    person = five.case("P-1", SACHBEARBEITUNG_LVR)["person"]
    assert (person["strasse"], person["plz"], person["ort"]) == ("Rosenweg 2", "53111", "Bonn")


def test_a_case_without_person_gets_one_recorded_and_a_second_case_can_share_it(five):
    five.start_case("fuenf_schritte", "P-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)
    assert five.case("P-1", SACHBEARBEITUNG_LVR)["person"] is None
    assert five.update_person("P-1", KIND, SACHBEARBEITUNG_LVR)[:2] == ["kind_vorname", "kind_nachname"]
    first = five.case("P-1", SACHBEARBEITUNG_LVR)["person"]
    five.start_case("fuenf_schritte", "P-2", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR, same_person_as="P-1")
    assert five.case("P-2", SACHBEARBEITUNG_LVR)["person"] == first
    with pytest.raises(NotFound):                 # only a case one may see lends its person
        five.start_case("fuenf_schritte", "P-3", {}, SACHBEARBEITUNG_LWL, same_person_as="P-1")
    assert count_rows(five.store, tables.persons) == 1


# --- access logging ------------------------------------------------------------------------------

def test_opening_a_childs_case_file_is_logged_in_the_same_transaction(five, clock):
    five.start_case("fuenf_schritte", "P-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR, person=KIND)
    five.start_case("fuenf_schritte", "A-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)   # no child
    clock.advance(timedelta(minutes=5))
    case = five.case("P-1", SACHBEARBEITUNG_LVR)
    assert [(a["action"], a["actor"], a["at"]) for a in case["accesses"]] == [
        ("akte_eingesehen", "sabine.lvr", clock.now())]
    document_id = five.add_document("P-1", NewDocument("a.txt", "text/plain", b"x"), SACHBEARBEITUNG_LVR)
    five.document("P-1", document_id, SACHBEARBEITUNG_LVR)
    five.case("P-1", SYSTEM)                                              # the system's own reads are not accesses
    with pytest.raises(NotFound):
        five.case("P-1", SACHBEARBEITUNG_LWL)                              # refused: nothing logged
    accesses = five.case("P-1", SACHBEARBEITUNG_LVR)["accesses"]
    assert [a["action"] for a in accesses] == ["akte_eingesehen", "dokument_gelesen", "akte_eingesehen"]
    steps, _ = privacy.split_history(five.case("P-1", SACHBEARBEITUNG_LVR)["history"])
    assert [s["action"] for s in steps] == ["vorgang_angelegt", "dokument_hochgeladen"]
    five.case("A-1", SACHBEARBEITUNG_LVR)
    assert audit(five.store, business_key="A-1", action="akte_eingesehen") == []
    assert five.case_model_xml("P-1", SACHBEARBEITUNG_LVR).startswith("<?xml")
    assert len(audit(five.store, business_key="P-1", action="akte_eingesehen")) == 3   # the diagram is not one


# --- export (Art. 15 DSGVO) ------------------------------------------------------------------------

def test_only_administration_exports_and_the_export_has_everything(five, clock):
    five.start_case("fuenf_schritte", "P-1", {"antrag": "2026-02-01"}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR,
                    person=KIND)
    five.start_case("fuenf_schritte", "P-2", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR, same_person_as="P-1")
    five.start_case("fuenf_schritte", "A-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR, person={
        **KIND, "kind_vorname": "Anderes", "kind_nachname": "Kind"})
    five.add_comment("P-1", "Eltern angerufen.", SACHBEARBEITUNG_LVR)
    five.add_document("P-1", NewDocument("FuB.pdf", "application/pdf", b"%PDF-1.4 Befund"), SACHBEARBEITUNG_LVR)
    person_id = five.case("P-1", SACHBEARBEITUNG_LVR)["person"]["id"]
    for actor in (SACHBEARBEITUNG_LVR, Actor("paula", frozenset({"Prozessverantwortliche"}), None)):
        with pytest.raises(Forbidden, match="Administration"):
            five.export_person(person_id, actor)
        with pytest.raises(Forbidden):
            five.person_of_case("P-1", actor)
    assert audit(five.store, action="daten_exportiert") == []
    assert five.person_of_case("P-2", ADMIN) == person_id
    export = json.loads(privacy.export_json(five.export_person(person_id, ADMIN)))
    assert export["person"]["kind_nachname"] == "Quellenreuther" and export["person"]["kind_geburtsdatum"] == "2023-06-01"
    assert [c["aktenzeichen"] for c in export["vorgaenge"]] == ["P-1", "P-2"]          # not the other child
    first = export["vorgaenge"][0]
    assert first["daten"]["antrag"] == "2026-02-01"
    assert [c["text"] for c in first["kommentare"]] == ["Eltern angerufen."]
    [document] = first["dokumente"]
    assert base64.b64decode(document["inhalt_base64"]) == b"%PDF-1.4 Befund" and document["name"] == "FuB.pdf"
    assert "akte_eingesehen" in [h["action"] for h in first["verlauf"]]
    assert first["verlauf"][-1]["action"] == "daten_exportiert"                           # the export itself
    assert [(e["actor"], e["business_key"]) for e in audit(five.store, action="daten_exportiert")] == [
        ("dora.datenschutz", "P-1"), ("dora.datenschutz", "P-2")]
    with pytest.raises(NotFound):
        five.person_of_case("P-3", ADMIN)
    five.start_case("fuenf_schritte", "A-2", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)
    with pytest.raises(NotFound, match="keine Personendaten"):
        five.person_of_case("A-2", ADMIN)


# --- deletion run (Art. 17 DSGVO, § 84 SGB X) ----------------------------------------------------------

def test_the_deletion_run_removes_closed_old_cases_and_keeps_only_the_audit_marker(five, clock, store):
    start = clock.now()
    five.start_case("fuenf_schritte", "ALT-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR, person=KIND)
    five.start_case("fuenf_schritte", "ALT-2", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR,
                    person={**KIND, "kind_vorname": "Zweites"})
    five.start_case("fuenf_schritte", "OFFEN-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR,
                    same_person_as="ALT-2")                                  # the second child's other case
    five.add_comment("ALT-1", "Xaveria war heute da.", SACHBEARBEITUNG_LVR)
    five.add_document("ALT-1", NewDocument("FuB.pdf", "application/pdf", b"%PDF-1.4 Befund"), SACHBEARBEITUNG_LVR)
    finish(five, "ALT-1")
    finish(five, "ALT-2")
    old = {k: five.case(k, SACHBEARBEITUNG_LVR)["id"] for k in ("ALT-1", "ALT-2")}
    assert five.case("ALT-1", SACHBEARBEITUNG_LVR)["closed_at"] == start
    assert five.case("OFFEN-1", SACHBEARBEITUNG_LVR)["closed_at"] is None
    clock.advance(timedelta(days=300))
    five.start_case("fuenf_schritte", "NEU-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)
    finish(five, "NEU-1")                                                   # closed, but recently
    clock.advance(timedelta(days=70))                                       # ALT-*: 370 days, NEU-1: 70

    dry = five.purge_closed_cases(365, dry_run=True)
    assert sorted(dry.cases) == ["ALT-1", "ALT-2"] and count_rows(store, tables.instances) == 4
    result = five.purge_closed_cases(365)
    assert sorted(result.cases) == ["ALT-1", "ALT-2"] and result.persons == 1        # ALT-2's child stays
    assert five.purge_closed_cases(365).cases == []                                       # nothing left to do

    with store.read() as conn:
        assert set(conn.execute(sa.select(tables.instances.c.business_key)).scalars()) == {"OFFEN-1", "NEU-1"}
        for table in (tables.documents, tables.comments, tables.case_parties, tables.open_tasks,
                      tables.deadlines, tables.pending_timers, tables.awaited_events):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)
                                .where(table.c.instance_id.in_(old.values()))).scalar() == 0, table.name
        assert [p.kind_vorname for p in conn.execute(sa.select(tables.persons))] == ["Zweites"]
    kept = audit(store, business_key="ALT-1")
    assert [e["action"] for e in kept][:2] == ["vorgang_angelegt", "kommentar"]
    assert all(json.loads(e["details"]) == privacy.DELETED_MARKER and e["instance_id"] is None
               for e in kept[:-1])
    assert all(e["actor"] and e["at"] for e in kept)
    marker = kept[-1]
    assert (marker["action"], marker["actor"]) == ("vorgang_geloescht", "loeschlauf")
    assert json.loads(marker["details"]) == {"abgeschlossen_am": start.date().isoformat(),
                                             "aufbewahrungsfrist_tage": 365,
                                             "rechtsgrundlage": "Art. 17 DSGVO, § 84 SGB X"}
    with store.read() as conn:
        every_detail = " ".join(conn.execute(sa.select(tables.audit_events.c.details)).scalars())
    assert "Xaveria" not in every_detail and "FuB.pdf" not in every_detail
    assert five.case("OFFEN-1", SACHBEARBEITUNG_LVR)["person"]["kind_vorname"] == "Zweites"
    with pytest.raises(NotFound):
        five.case("ALT-1", SACHBEARBEITUNG_LVR)


def test_the_worker_runs_the_deletion_once_a_day(five, clock, store):
    five.start_case("fuenf_schritte", "ALT-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR, person=KIND)
    finish(five, "ALT-1")
    clock.advance(timedelta(days=10))
    last = daily_purge(five, 30, None)
    assert last == clock.now().astimezone(BERLIN).date() and count_rows(store, tables.instances) == 1
    clock.advance(timedelta(days=21))                                      # 31 days after closing
    assert daily_purge(five, 30, last - timedelta(days=1)) == clock.now().astimezone(BERLIN).date()
    assert count_rows(store, tables.instances) == 0 and count_rows(store, tables.persons) == 0
    five.start_case("fuenf_schritte", "ALT-2", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR)
    finish(five, "ALT-2")
    clock.advance(timedelta(days=40))
    today = clock.now().astimezone(BERLIN).date()
    assert daily_purge(five, 30, today) == today and count_rows(store, tables.instances) == 1   # ran today already


def test_retention_period_must_be_positive(five):
    with pytest.raises(InvalidInput, match="mindestens einen Tag"):
        five.purge_closed_cases(0)


def test_migration_0004_down_and_up_keeps_the_cases(five, store):
    """Downgrade removes persons and the two columns without touching cases or their index rows
    (SQLite: no table copy, so no cascade), upgrade brings them back."""
    from alembic import command
    five.start_case("fuenf_schritte", "P-1", {}, SACHBEARBEITUNG_LVR, parties=PARTIES_LVR, person=KIND)
    tasks_before = count_rows(store, tables.open_tasks)
    assert tasks_before == 1
    config = tables.alembic_config(store.engine)
    command.downgrade(config, "0003")
    inspector = sa.inspect(store.engine)
    assert "persons" not in inspector.get_table_names()
    assert {"person_id", "closed_at"}.isdisjoint(c["name"] for c in inspector.get_columns("instances"))
    assert count_rows(store, tables.open_tasks) == tasks_before
    assert count_rows(store, tables.case_parties) == 3
    command.upgrade(config, "head")
    inspector = sa.inspect(store.engine)
    assert "persons" in inspector.get_table_names()
    assert count_rows(store, tables.open_tasks) == tasks_before
    assert five.case("P-1", SACHBEARBEITUNG_LVR)["person"] is None          # the link went with 0004
