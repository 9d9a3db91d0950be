"""Background jobs end to end: a real Celery worker (and beat) as separate
processes, talking to the test process through Redis and to the PostgreSQL
test database, the way production runs them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from core.models import UserSession
from core.tasks import HEARTBEAT_KEY, clear_expired_sessions
from kaitai.celery import app as celery_app

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.celery_worker]

REPO_ROOT = Path(__file__).resolve().parent.parent
QUEUE = "kaitai"
READY_TIMEOUT = 30
TASK_TIMEOUT = 30
HEARTBEAT_TIMEOUT = 20


def test_database_url() -> str:
    """DATABASE_URL of the database this test runs on (test_<name>), so the
    worker sees the rows the test commits."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(db.get("HOST") or "", safe="")  # a socket directory is %-encoded
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


test_database_url.__test__ = False  # a helper, not a test


class Process:
    """A subprocess whose output goes to a file (a pipe nobody reads would
    fill up and stall it)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.args = args
        self.log = log
        with log.open("wb") as log_file:  # the child keeps its own descriptor
            self.popen = subprocess.Popen(
                args,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)

    def report(self) -> str:
        return (
            f"\n===== {self.name} (exit {self.popen.returncode}): {' '.join(self.args)}\n"
            f"{self.output()}"
        )


@pytest.fixture
def celery_env(transactional_db):
    assert settings.CELERY_TASK_ALWAYS_EAGER is False, "tasks would run in-process"
    assert settings.CELERY_BROKER_URL == settings.REDIS_URL
    assert settings.CELERY_TASK_DEFAULT_QUEUE == QUEUE
    assert celery_app.conf.task_always_eager is False
    assert celery_app.conf.task_default_queue == QUEUE
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "kaitai.settings.test",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@pytest.fixture
def spawn(tmp_path, request):
    """spawn(name, celery arguments, **extra env) -> Process; all stopped at
    teardown, last started first, with their output printed if the test failed."""
    processes: list[Process] = []
    failed_before = request.session.testsfailed

    def _spawn(name: str, celery_args: list[str], env: dict[str, str]) -> Process:
        args = [sys.executable, "-m", "celery", "-A", "kaitai", *celery_args]
        process = Process(name, args, env, tmp_path / f"{name}.log")
        processes.append(process)
        return process

    yield _spawn

    for process in reversed(processes):
        process.stop()
    if request.session.testsfailed > failed_before:
        for process in processes:
            print(process.report())


@pytest.fixture
def worker(spawn, celery_env):
    node = f"kaitai-test-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    process = spawn(
        "worker",
        [
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-Q",
            QUEUE,
            "--without-gossip",
            "--without-mingle",
            "-n",
            node,
        ],
        celery_env,
    )
    process.node = node
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        assert process.alive(), f"the worker exited early{process.report()}"
        if celery_app.control.ping(destination=[node], timeout=1):
            break
        assert time.monotonic() < deadline, f"no worker ready in {READY_TIMEOUT}s{process.report()}"
    return process


def make_session(key: str, expire_date: datetime) -> UserSession:
    return UserSession.objects.create(
        session_key=key, session_data="", expire_date=expire_date, user=None
    )


def test_worker_consumes_the_kaitai_queue(worker):
    queues = celery_app.control.inspect([worker.node], timeout=5).active_queues()
    assert queues, worker.report()
    assert [q["name"] for q in queues[worker.node]] == [QUEUE]


def test_worker_clears_expired_sessions(worker):
    now = timezone.now()
    make_session("expired" + "x" * 25, now - timedelta(minutes=5))
    make_session("live" + "x" * 28, now + timedelta(hours=1))

    result = clear_expired_sessions.delay()
    assert type(result.backend).__name__ == "RedisBackend"
    deleted = result.get(timeout=TASK_TIMEOUT)

    assert deleted == 1, worker.report()
    assert list(UserSession.objects.values_list("session_key", flat=True)) == ["live" + "x" * 28]
    log = worker.output()
    assert f"Task core.tasks.clear_expired_sessions[{result.id}] received" in log, log
    assert f"Task core.tasks.clear_expired_sessions[{result.id}] succeeded" in log, log


def test_beat_and_worker_stamp_the_heartbeat(worker, spawn, celery_env, tmp_path):
    cache.delete(HEARTBEAT_KEY)
    assert cache.get(HEARTBEAT_KEY) is None
    started = timezone.now()

    beat = spawn(
        "beat",
        ["beat", "--loglevel=INFO", "-s", str(tmp_path / "beat-schedule")],
        {**celery_env, "CELERY_HEARTBEAT_SECONDS": "1"},
    )
    deadline = time.monotonic() + HEARTBEAT_TIMEOUT
    stamp = None
    while stamp is None and time.monotonic() < deadline:
        assert beat.alive(), f"beat exited early{beat.report()}"
        time.sleep(0.5)
        stamp = cache.get(HEARTBEAT_KEY)

    assert stamp is not None, (
        f"no heartbeat within {HEARTBEAT_TIMEOUT}s{beat.report()}{worker.report()}"
    )
    assert datetime.fromisoformat(stamp) >= started - timedelta(seconds=1)
    assert "Sending due task worker-heartbeat (core.tasks.heartbeat)" in beat.output()
    assert "Task core.tasks.heartbeat[" in worker.output()
