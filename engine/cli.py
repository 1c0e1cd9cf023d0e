"""The ``duban`` command line: thin commands over :class:`engine.Engine`.

Errors print one line on stderr and exit non-zero (no tracebacks):
usage 2, not found 3, definition 4, validation 5, conflict 6, permission 7,
script 8, database 9, any other failure 1.
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import click
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import (
    ConflictError, DefinitionError, DubanError, NotFound, PermissionDenied, ScriptError,
    ValidationError,
)

EXIT_CODES: dict[type[DubanError], int] = {
    NotFound: 3, DefinitionError: 4, ValidationError: 5, ConflictError: 6,
    PermissionDenied: 7, ScriptError: 8,
}


def _exit_code(err: DubanError) -> int:
    for cls, code in EXIT_CODES.items():
        if isinstance(err, cls):
            return code
    return 1


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value):
        return asdict(value)  # type: ignore[arg-type]
    return str(value)


def _echo_json(value: Any) -> None:
    if is_dataclass(value):
        value = asdict(value)  # type: ignore[arg-type]
    elif isinstance(value, list):
        value = [asdict(v) if is_dataclass(v) else v for v in value]  # type: ignore[arg-type]
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


def _parse_json(text: str | None, what: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"{what} is not valid JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(value, dict):
        raise click.UsageError(f"{what} must be a JSON object")
    return value


class Context:
    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url
        self._engine: Any = None

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from engine.api import Engine

            self._engine = Engine(self.database_url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


pass_ctx = click.make_pass_decorator(Context)


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn engine and database errors into one line and an exit code."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DubanError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(_exit_code(err))
        except SQLAlchemyError as err:
            first = str(getattr(err, "orig", err)).strip().splitlines()[0]
            hint = " (run `duban db upgrade` first?)" if "no such table" in first or \
                "does not exist" in first else ""
            click.echo(f"error: database: {first}{hint}", err=True)
            sys.exit(9)
        except OSError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(1)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


@click.group()
@click.option("--database-url", envvar="DUBAN_DATABASE_URL", default=None,
              help="SQLAlchemy URL (default sqlite:///duban.db, or $DUBAN_DATABASE_URL).")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """督办 duban: BPMN procedures for town and village party organisations."""
    ctx.obj = Context(database_url)
    ctx.call_on_close(ctx.obj.close)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_ctx
@_guard
def db_upgrade(ctx: Context) -> None:
    """Create or upgrade the schema to the newest revision."""
    ctx.engine.migrate()
    click.echo("database is at the newest revision")


def _bpmn_files(paths: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(path.glob("*.bpmn")))
        elif path.exists():
            files.append(path)
        else:
            raise click.UsageError(f"no such file or directory: {raw}")
    if not files:
        raise click.UsageError("no .bpmn files given")
    return files


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--as", "by", default="admin", show_default=True, help="who deploys")
@pass_ctx
@_guard
def deploy(ctx: Context, paths: tuple[str, ...], by: str) -> None:
    """Deploy BPMN files (or every .bpmn in a directory)."""
    for path in _bpmn_files(paths):
        version = ctx.engine.deploy_file(path, by=by)
        for v in version.all_in_file:
            state = "deployed" if v.created else "unchanged"
            click.echo(f"{path.name}: {v.process_key} version {v.version} ({state})")


@cli.command()
@click.argument("process_key")
@click.option("--data", default=None, help="instance data as a JSON object")
@click.option("--as", "by", required=True, help="who starts it")
@click.option("--business-key", default=None)
@click.option("--org", default=None, help="organisation code the instance concerns")
@pass_ctx
@_guard
def start(ctx: Context, process_key: str, data: str | None, by: str,
          business_key: str | None, org: str | None) -> None:
    """Start a process instance."""
    iid = ctx.engine.start(process_key, _parse_json(data, "--data"), by=by,
                           business_key=business_key, org=org)
    state = ctx.engine.get_instance(iid).state
    click.echo(f"instance {iid} started ({state})")


@cli.command()
@click.option("--as", "by", default=None, help="only tasks this person holds or may claim")
@click.option("--instance", "instance_id", type=int, default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@_guard
def tasks(ctx: Context, by: str | None, instance_id: int | None, as_json: bool) -> None:
    """List open tasks."""
    eng = ctx.engine
    if by:
        found = eng.open_tasks(instance_id=instance_id, assignee=by) + \
            eng.open_tasks(instance_id=instance_id, candidate_of=by)
    else:
        found = eng.open_tasks(instance_id=instance_id)
    if as_json:
        _echo_json(found)
        return
    if not found:
        click.echo("no open tasks")
    for t in found:
        who = t.assignee or ("candidates: " + ", ".join(t.candidates) if t.candidates else "-")
        click.echo(f"{t.id}  #{t.instance_id} {t.process_key}  {t.name or t.element_id}  [{who}]")


@cli.command()
@click.argument("task_id")
@click.option("--data", default=None, help="form data as a JSON object")
@click.option("--as", "by", required=True)
@pass_ctx
@_guard
def complete(ctx: Context, task_id: str, data: str | None, by: str) -> None:
    """Complete a task."""
    view = ctx.engine.complete(task_id, _parse_json(data, "--data"), by=by)
    state = ctx.engine.get_instance(view.instance_id).state
    click.echo(f"task {task_id} completed; instance {view.instance_id} is {state}")


@cli.command()
@click.argument("task_id")
@click.option("--as", "by", required=True)
@pass_ctx
@_guard
def claim(ctx: Context, task_id: str, by: str) -> None:
    """Claim a task."""
    ctx.engine.claim(task_id, by=by)
    click.echo(f"task {task_id} claimed by {by}")


@cli.command()
@click.argument("instance_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@_guard
def instance(ctx: Context, instance_id: int, as_json: bool) -> None:
    """Show an instance: state, data, open tasks and history."""
    eng = ctx.engine
    view = eng.get_instance(instance_id)
    open_tasks = eng.open_tasks(instance_id=instance_id)
    history = eng.history(instance_id)
    if as_json:
        _echo_json({"instance": asdict(view), "open_tasks": [asdict(t) for t in open_tasks],
                    "history": [asdict(h) for h in history]})
        return
    click.echo(f"instance {view.id}: {view.process_key} v{view.version} — {view.state}")
    if view.business_key:
        click.echo(f"business key: {view.business_key}")
    if view.error:
        click.echo(f"error: {view.error.get('element_id')}: {view.error.get('message')}")
    click.echo("data: " + json.dumps(view.data, ensure_ascii=False, default=str))
    for t in open_tasks:
        click.echo(f"open: {t.id} {t.name or t.element_id} [{t.assignee or ','.join(t.candidates)}]")
    zone = ZoneInfo(eng.config.timezone)
    for h in history:
        who = f" by {h.by}" if h.by else ""
        click.echo(f"  {h.at.astimezone(zone):%Y-%m-%d %H:%M:%S}  {h.kind:<10} "
                   f"{h.element_name or h.element_id}{who}")


@cli.command()
@click.argument("instance_id", type=int)
@click.option("--as", "by", required=True)
@click.option("--reason", required=True)
@pass_ctx
@_guard
def cancel(ctx: Context, instance_id: int, by: str, reason: str) -> None:
    """Cancel an instance."""
    ctx.engine.cancel(instance_id, by=by, reason=reason)
    click.echo(f"instance {instance_id} cancelled")


@cli.command()
@click.option("--tick", default=1.0, show_default=True, type=float,
              help="seconds between looks at the jobs table")
@click.option("--lease", default=60.0, show_default=True, type=float,
              help="seconds a worker holds a job before another may take it over")
@click.option("--batch", default=50, show_default=True, type=int,
              help="jobs leased at a time")
@pass_ctx
@_guard
def worker(ctx: Context, tick: float, lease: float, batch: int) -> None:
    """Fire due jobs (timers, deadlines, reminders, deliveries) until stopped."""
    from engine.scheduler import run_worker

    if tick <= 0 or lease <= 0 or batch <= 0:
        raise click.UsageError("--tick, --lease and --batch must be positive")
    ctx.engine.migrate()
    click.echo(f"duban worker {ctx.engine.worker_id}: ticking every {tick:g} s")
    run_worker(ctx.engine, tick, batch=batch, lease_seconds=lease)


@cli.group(invoke_without_command=True)
@click.option("--failed", is_flag=True, help="only incidents: jobs that failed for good")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def jobs(click_ctx: click.Context, failed: bool, as_json: bool) -> None:
    """List pending jobs, or incidents with --failed; `duban jobs retry ID` retries one."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx: Context = click_ctx.obj
    _guard(_list_jobs)(ctx, failed, as_json)


def _list_jobs(ctx: Context, failed: bool, as_json: bool) -> None:
    found = ctx.engine.list_jobs(failed=failed)
    if as_json:
        _echo_json(found)
        return
    if not found:
        click.echo("no failed jobs" if failed else "no pending jobs")
    for j in found:
        error = f"  error: {j.last_error}" if j.last_error else ""
        click.echo(f"{j.id}  {j.kind:<14} {j.state:<8} due {j.due_at:%Y-%m-%d %H:%M:%S}Z  "
                   f"instance {j.instance_id or '-'}  attempts {j.attempts}{error}")


@jobs.command("retry")
@click.argument("job_id", type=int)
@click.option("--as", "by", default="admin", show_default=True)
@pass_ctx
@_guard
def jobs_retry(ctx: Context, job_id: int, by: str) -> None:
    """Give a failed job new attempts, due now."""
    ctx.engine.retry_job(job_id, by=by)
    click.echo(f"job {job_id} will run again at the next tick")


@cli.group()
def calendar() -> None:
    """The working-day calendar (holidays and 调休 make-up days)."""


@calendar.command("load")
@click.argument("year", type=int)
@click.argument("notice_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "by", default="admin", show_default=True)
@pass_ctx
@_guard
def calendar_load(ctx: Context, year: int, notice_file: str, by: str) -> None:
    """Load YEAR from a notice file: lines like `2027-01-01,休,元旦` or `2027-02-07,班,春节调休`."""
    text = Path(notice_file).read_text(encoding="utf-8-sig")
    report = ctx.engine.load_calendar(year, text, by=by)
    click.echo(f"{year}: {report['rules']} days loaded; {report['deadlines_moved']} provisional "
               "deadlines recomputed")


@cli.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@pass_ctx
@_guard
def audit_verify(ctx: Context) -> None:
    """Check the hash chain; exit 1 naming the first broken event."""
    report = ctx.engine.verify_audit()
    if report.ok:
        click.echo(f"audit trail intact: {report.checked} events")
        return
    click.echo(f"audit trail BROKEN at event {report.broken_seq}: {report.reason} "
               f"({report.checked} events verified before it)", err=True)
    sys.exit(1)


@cli.group()
def ledger() -> None:
    """The ledger (台账): Excel export, and importing a problem list (问题清单)."""


@ledger.command("export")
@click.option("--org", default=None, help="organisation code (default: what --as sees)")
@click.option("--kind", default=None, help="problem, matter or petition")
@click.option("--state", default=None, help="a state, or `open`")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="the .xlsx file to write")
@click.option("--as", "--by", "by", default="admin", show_default=True)
@pass_ctx
@_guard
def ledger_export(ctx: Context, org: str | None, kind: str | None, state: str | None,
                  out_path: str, by: str) -> None:
    """Write the ledger rows *by* may see to an Excel file."""
    target = Path(out_path)
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as out:
            ctx.engine.export_ledger(by, out, org=org, kind=kind, state=state)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)  # never leave half a workbook under the real name
    click.echo(f"ledger written to {target}")


@ledger.command("import")
@click.argument("xlsx", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "--by", "by", required=True, help="who registers the problems")
@pass_ctx
@_guard
def ledger_import(ctx: Context, xlsx: str, by: str) -> None:
    """Register every problem of a problem list (one 问题整改销号 each), or none."""
    try:
        with open(xlsx, "rb") as content:
            report = ctx.engine.import_problem_list(content, by=by)
    except ValidationError as err:
        for where, reason in err.fields.items():
            click.echo(f"{where}: {reason}", err=True)
        raise
    click.echo(f"{report.rows} problems registered: {', '.join(report.numbers)}")


@cli.command()
@click.option("--instances/--no-instances", default=True, help="also start a few instances")
@pass_ctx
@_guard
def demo(ctx: Context, instances: bool) -> None:
    """Load demo organisations, people, every process in processes/ and a few instances."""
    from engine.demo import load_demo

    for line in load_demo(ctx.engine, with_instances=instances):
        click.echo(line)


def main() -> None:
    cli(prog_name="duban")


if __name__ == "__main__":
    main()
