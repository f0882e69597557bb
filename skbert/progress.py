"""Progress of long steps on stderr: encoding texts, building an encoder.

An estimator with ``verbose > 0`` turns `reporting` on for one call
(``fit``, ``predict``, ``transform``) and opens a `task` around encoding;
the loops that run the network `advance` it by the examples of each batch,
wherever they are. A line is
drawn once a task has run for `DELAY` seconds, so quick calls print
nothing, and then at most every `INTERVAL` seconds: done / total, rate and
the time left. With reporting off (``verbose=0``) nothing prints.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import time

#: Seconds before a task draws its first line.
DELAY = 2.0
#: Seconds between two lines of one task.
INTERVAL = 0.5

_current: contextvars.ContextVar[_Task | None] = contextvars.ContextVar(
    "skbert_progress_task", default=None
)
_stream: contextvars.ContextVar = contextvars.ContextVar(
    "skbert_progress_stream", default=None
)


class _Task:
    def __init__(self, what: str, total: int, stream):
        self.what, self.total, self.stream = what, total, stream
        self.done = 0
        self.start = self.drawn = time.perf_counter()
        self.shown = False

    def advance(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self.start >= DELAY and now - self.drawn >= INTERVAL:
            self.draw(now)

    def draw(self, now: float, end: str = "\r") -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        line = f"{self.what}: {self.done}/{self.total}, {rate:.1f}/s"
        if end == "\r" and rate > 0 and self.done < self.total:
            line += f", {(self.total - self.done) / rate:.0f} s left"
        else:
            line += f", {elapsed:.1f} s"
        self.stream.write(line.ljust(60) + end)
        self.stream.flush()
        self.drawn, self.shown = now, True

    def close(self) -> None:
        if self.shown:
            self.draw(time.perf_counter(), end="\n")


@contextlib.contextmanager
def reporting(enabled: bool, stream=None):
    """Let the tasks and notes of the block report (an estimator's ``verbose``)."""
    token = _stream.set((stream or sys.stderr) if enabled else None)
    try:
        yield
    finally:
        _stream.reset(token)


@contextlib.contextmanager
def task(what: str, total: int):
    """Report progress of `what` (`total` examples) while the block runs.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with reporting(True, out), task("encoding texts", 3):
    ...     advance(3)
    >>> out.getvalue()  # quick: nothing drawn
    ''
    """
    stream = _stream.get()
    if stream is None:
        yield
        return
    token = _current.set(_Task(what, total, stream))
    try:
        yield
    finally:
        _current.get().close()
        _current.reset(token)


def advance(n: int) -> None:
    """Count `n` more examples done in the open task, if there is one."""
    current = _current.get()
    if current is not None:
        current.advance(n)


def note(message: str) -> None:
    """Print `message` on stderr if reporting is on (for one-off long steps)."""
    stream = _stream.get()
    if stream is not None:
        print(message, file=stream, flush=True)
