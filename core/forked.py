"""Work in a forked child process: a sandbox for risky reads, a second core
for independent work.

``start(fn, *args)`` forks; the child runs ``fn(*args)`` (after ``setup()``
if given), sends the result back pickled through a pipe and exits with
``os._exit`` (no atexit hooks, no database connection closed or touched);
the parent goes on and collects the result with ``Pending.result()``.

The function must not touch the database, the cache or any other connection
inherited from the parent, and its result must be plain values. Where there
is no ``fork`` (Windows development machines), the work runs in-process at
``start`` instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable
from typing import Any

_HEADER = struct.Struct("<Q")
CRASHED = 70  # the child's exit code when ``fn`` raised something unexpected


class ChildFailed(Exception):
    """The child did not send a result: it crashed, was killed (a resource
    limit) or ``fn`` raised an unexpected exception."""


class Pending:
    """The result of ``fn(*args)``, running in a child process."""

    def __init__(self, pid: int | None, pipe: int | None, value: Any = None) -> None:
        self._pid, self._pipe, self._value = pid, pipe, value

    def result(self) -> Any:
        """Wait for the child and return what ``fn`` returned.

        Raises ChildFailed when it returned nothing; an exception ``fn`` raised
        on purpose is returned (pickled) and re-raised here if it is one of the
        ``expected`` exceptions given to ``start``."""
        if self._pid is None:
            return self._unwrap(self._value)
        with os.fdopen(self._pipe, "rb") as pipe:
            blob = pipe.read()
        pid, self._pid = self._pid, None
        if len(blob) >= _HEADER.size and _HEADER.unpack_from(blob)[0] == len(blob) - _HEADER.size:
            # A whole result: the child has nothing left to do but exit. Its
            # exit (tearing down a copy of this process) is waited for on a
            # thread, not here: some milliseconds a child.
            threading.Thread(target=_reap, args=(pid,), daemon=True).start()
        else:
            _, status = os.waitpid(pid, 0)
            raise ChildFailed(f"child exited with status {status} without a whole result")
        # Our own child's pickle of plain values.
        self._value = pickle.loads(memoryview(blob)[_HEADER.size :])  # noqa: S301
        return self._unwrap(self._value)

    def discard(self) -> None:
        """Not wanted after all: stop the child and reap it."""
        if self._pid is None:
            return
        os.close(self._pipe)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)  # not reaped yet: the pid is still ours
        os.waitpid(self._pid, 0)
        self._pid = None

    def __del__(self) -> None:
        self.discard()

    @staticmethod
    def _unwrap(value: tuple[str, Any]) -> Any:
        kind, payload = value
        if kind == "raised":
            raise payload
        return payload


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):  # reaped already
        os.waitpid(pid, 0)


def start(
    fn: Callable[..., Any],
    *args: Any,
    setup: Callable[[], None] | None = None,
    expected: tuple[type[BaseException], ...] = (),
    shared: bool = False,
) -> Pending:
    """Run ``fn(*args)`` in a forked child; ``expected`` exceptions raised by
    ``fn`` are passed back and raised by ``result()``. ``shared``: the result
    holds the same objects many times over (interned cells), and is pickled
    with a memo so that each is sent, and rebuilt here, once."""
    if not hasattr(os, "fork"):
        try:
            return Pending(None, None, ("ok", fn(*args)))
        except expected as exc:
            return Pending(None, None, ("raised", exc))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            os.close(read_end)
            if setup is not None:
                setup()
            try:
                outcome: tuple[str, Any] = ("ok", fn(*args))
            except expected as exc:
                outcome = ("raised", exc)
            buffer = io.BytesIO()
            buffer.write(b"\0" * _HEADER.size)
            pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.fast = not shared  # no memo: plain values, no cycles; 4 times faster
            pickler.dump(outcome)
            blob = buffer.getbuffer()
            _HEADER.pack_into(blob, 0, len(blob) - _HEADER.size)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(blob)
        except BaseException:  # noqa: BLE001 - whatever happens, the child exits here
            code = CRASHED
        finally:
            os._exit(code)
    os.close(write_end)
    return Pending(pid, read_end)
