"""Work in a forked child: results, expected errors, crashes, no fork."""

from __future__ import annotations

import datetime
import faulthandler
import os
import time

import pytest

from core import forked


class Refused(Exception):
    pass


def _values(n: int) -> list:
    return [(i, str(i) * 3, datetime.date(2026, 1, 1 + i % 28), i / 3) for i in range(n)]


def _refuse(message: str) -> None:
    raise Refused(message)


def _crash() -> None:
    os.abort()


def _quiet() -> None:
    faulthandler.disable()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)


def _unexpected() -> None:
    raise KeyError("not passed back")


def _pid() -> int:
    return os.getpid()


def test_result_comes_back_from_another_process():
    pending = forked.start(_values, 50_000)  # larger than a pipe's buffer
    assert pending.result() == _values(50_000)
    assert forked.start(_pid).result() != os.getpid()


def test_a_finished_child_is_reaped_without_waiting_for_it():
    pending = forked.start(_pid)
    pid = pending.result()  # returns once the result is in, the exit is reaped on a thread
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            break  # reaped: no zombie left
        time.sleep(0.01)
    else:
        pytest.fail("the child was never reaped")


def test_expected_exceptions_are_raised_in_the_parent():
    pending = forked.start(_refuse, "文件已损坏", expected=(Refused,))
    with pytest.raises(Refused, match="文件已损坏"):
        pending.result()


def test_a_crash_or_an_unexpected_exception_is_child_failed():
    with pytest.raises(forked.ChildFailed):
        forked.start(_crash, setup=_quiet).result()
    with pytest.raises(forked.ChildFailed):
        forked.start(_unexpected, expected=(Refused,)).result()


def test_setup_runs_in_the_child_only():
    marker = []
    pending = forked.start(len, marker, setup=lambda: marker.append("child"))
    assert pending.result() == 1 and marker == []


def test_discarded_work_leaves_no_process_behind():
    pending = forked.start(_values, 50_000)
    pid = pending._pid
    start = time.monotonic()
    pending.discard()
    assert time.monotonic() - start < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped


def test_without_fork_the_work_runs_in_process(monkeypatch):
    monkeypatch.delattr(os, "fork")
    assert forked.start(_pid).result() == os.getpid()
    with pytest.raises(Refused):
        forked.start(_refuse, "x", expected=(Refused,)).result()
