"""Celery tasks of the teams app: thin entry points, ids in, one service call.

Messages carry job ids only, never personal data. The import tasks are
idempotent (a job that is no longer waiting for the stage is left alone), so
they are acknowledged late and re-run if a worker is lost; the services cap
how often one job is retried.
"""

from celery import shared_task

from . import services


@shared_task(
    name="teams.tasks.check_import_job",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def check_import_job(job_id: int) -> None:
    services.import_job_check(job_id=job_id)


@shared_task(
    name="teams.tasks.apply_import_job",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def apply_import_job(job_id: int, actor_id: int | None = None) -> None:
    services.import_job_apply(job_id=job_id, actor_id=actor_id)


@shared_task(name="teams.tasks.purge_abandoned_imports", ignore_result=True)
def purge_abandoned_imports() -> int:
    """Beat, hourly: jobs abandoned for more than a day lose their files."""
    return services.import_jobs_purge()
