"""Repository commands: deploy BPMN files as immutable process versions."""
from __future__ import annotations

from sqlalchemy import func, select

from engine import start_timers
from engine.bpmn import parser, serializer, workflows
from engine.db.command import CommandContext
from engine.errors import ValidationError
from engine.models import Deployment, ProcessElement, ProcessVersion
from engine.views import VersionView


def _view(row: ProcessVersion, created: bool) -> VersionView:
    return VersionView(row.id, row.process_key, row.version, row.name, row.deployment_id,
                       row.deployed_by, row.deployed_at, created)


def deploy(ctx: CommandContext, xml: str | bytes, *, by: str,
           filename: str | None = None) -> VersionView:
    """Validate a BPMN file and store a new version of every executable process in it.

    Deploying a file identical to one deployed before stores nothing and
    returns the versions stored then.

    :return: the version of the file's primary process (the collaboration's
        first participant, else the first process no other process calls);
        ``.all_in_file`` lists every version the file produced.
    :raise DefinitionError: naming each element at fault; nothing is stored.
    """
    if not by:
        raise ValidationError({"by": "who deploys must be given"})
    session = ctx.session
    known = session.execute(select(ProcessVersion.process_key).distinct()).scalars().all()
    parsed = parser.parse_file(xml, known_processes=known,
                               service_handlers=ctx.engine.service_handlers.keys(),
                               timezone=ctx.engine.config.timezone)
    existing = session.execute(select(Deployment).where(Deployment.xml_hash == parsed.xml_hash)
                               ).scalar_one_or_none()
    if existing is not None:
        rows = session.execute(select(ProcessVersion).where(
            ProcessVersion.deployment_id == existing.id).order_by(ProcessVersion.id)).scalars().all()
        return _pick(rows, parsed.primary_key, created=False)

    deployment = Deployment(xml_hash=parsed.xml_hash, xml=parsed.xml, filename=filename,
                            deployed_by=by, deployed_at=ctx.now)
    session.add(deployment)
    session.flush()
    rows = []
    for proc in parsed.processes:
        subs = dict(proc.subprocess_specs)
        for key in sorted(proc.external_calls):
            subs.update(_latest_specs(ctx, key))
        latest = session.execute(select(func.max(ProcessVersion.version)).where(
            ProcessVersion.process_key == proc.key)).scalar() or 0
        row = ProcessVersion(deployment_id=deployment.id, process_key=proc.key,
                             version=latest + 1, name=proc.name,
                             spec_json=serializer.dump_specs(proc.spec, subs),
                             spec_format=serializer.SPEC_FORMAT, deployed_by=by,
                             deployed_at=ctx.now)
        session.add(row)
        session.flush()
        for element in parser.elements(proc.spec, subs):
            session.add(ProcessElement(version_id=row.id, **element))
        rows.append(row)
    session.flush()
    for proc, row in zip(parsed.processes, rows):
        start_timers.schedule_for_version(ctx, row.process_key, workflows.start_timers(proc.spec))
    for row in rows:
        ctx.record("process.deployed", by=by, process_key=row.process_key, version=row.version,
                   version_id=row.id, deployment_id=deployment.id, xml_hash=parsed.xml_hash,
                   filename=filename)
    return _pick(rows, parsed.primary_key, created=True)


def _latest_specs(ctx: CommandContext, key: str) -> dict[str, object]:
    """The called process (and what it calls) as deployed now, frozen into the caller."""
    row = ctx.session.execute(select(ProcessVersion).where(ProcessVersion.process_key == key)
                              .order_by(ProcessVersion.version.desc()).limit(1)).scalar_one()
    spec, subs = serializer.load_specs(row.spec_json)
    return {key: spec, **subs}


def _pick(rows: list[ProcessVersion], primary: str, *, created: bool) -> VersionView:
    views = tuple(_view(r, created) for r in rows)
    main = next((v for v in views if v.process_key == primary), views[0])
    return VersionView(main.id, main.process_key, main.version, main.name, main.deployment_id,
                       main.deployed_by, main.deployed_at, created, views)
