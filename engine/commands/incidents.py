"""Incidents of an instance, as the instance page deals with them."""
from __future__ import annotations

from engine import jobs, permissions, runtime
from engine.commands.runtime import require_actor
from engine.db.command import CommandContext
from engine.errors import NotFound
from engine.models import Job


def retry_instance_job(ctx: CommandContext, instance_id: int, job_id: int, *,
                       by: str) -> jobs.JobView:
    """Give one of an instance's failed jobs new attempts, due now (as
    :func:`engine.jobs.retry_job`), for someone who may manage the instance.

    :raise NotFound: no such instance, or no such job of it.
    :raise PermissionDenied: *by* may not manage the instance.
    :raise ConflictError: the job has not failed.
    """
    require_actor(ctx, by)
    row = runtime.get_row(ctx, instance_id)
    permissions.require_instance_manager(ctx.session, row, by)
    job = ctx.session.get(Job, job_id)
    if job is None or job.instance_id != row.id:
        raise NotFound(f"instance {instance_id} has no job {job_id}")
    return jobs.retry_job(ctx, job_id, by=by)
