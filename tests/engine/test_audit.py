"""The audit trail: every change recorded, and tampering found and named."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import delete, select, update

from engine.models import AuditEvent
from tests.engine.test_tasks import GOOD
from web.cli import cli


def _walk(org, deploy):
    deploy("test_approval")
    iid = org.start("approval", by="zhang", org="v1")
    org.complete(org.open_tasks(instance_id=iid)[0].id, GOOD, by="zhang")
    return iid


def test_every_state_change_is_recorded_with_its_actor(org, deploy):
    iid = _walk(org, deploy)
    with org.sessions() as s:
        rows = s.execute(select(AuditEvent).where(AuditEvent.instance_id == iid)
                         .order_by(AuditEvent.seq)).scalars().all()
    actions = [(r.action, r.actor) for r in rows]
    assert actions[0] == ("instance.started", "zhang")
    assert ("task.completed", "zhang") in actions
    assert ("instance.data_changed", "zhang") in actions
    assert any(a == "task.created" for a, _ in actions)
    report = org.verify_audit()
    assert report.ok and report.checked > 20


def _verify_cli(url: str):
    return CliRunner().invoke(cli, ["--database-url", url, "audit", "verify"])


def test_an_edited_row_is_found_and_named(org, deploy, db_url):
    _walk(org, deploy)
    assert _verify_cli(db_url).exit_code == 0
    with org.sessions() as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == 7)
                  .values(detail='{"forged":true}'))
        s.commit()
    report = org.verify_audit()
    assert (report.ok, report.broken_seq) == (False, 7)
    result = _verify_cli(db_url)
    assert result.exit_code == 1 and "event 7" in result.output


def test_a_deleted_row_is_found(org, deploy, db_url):
    _walk(org, deploy)
    with org.sessions() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq == 5))
        s.commit()
    report = org.verify_audit()
    assert (report.ok, report.broken_seq) == (False, 5)
    assert _verify_cli(db_url).exit_code == 1


def test_a_cut_tail_is_found(org, deploy):
    _walk(org, deploy)
    with org.sessions() as s:
        last = s.execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).scalars().first()
        s.execute(delete(AuditEvent).where(AuditEvent.seq == last))
        s.commit()
    report = org.verify_audit()
    assert not report.ok and report.broken_seq == last


def test_a_refused_command_records_nothing(org, deploy):
    deploy("test_approval")
    before = org.verify_audit().checked
    iid = org.start("approval", by="zhang", org="v1")
    after_start = org.verify_audit().checked
    try:
        org.complete(org.open_tasks(instance_id=iid)[0].id, {}, by="zhang")
    except Exception:
        pass
    assert org.verify_audit().checked == after_start > before
