"""Progress on stderr for long runs: bytes done, MB/s and time left, on one line.

Shown only where someone watches: on a terminal (never in a cron log, never
when stderr is piped or redirected), not with ``--quiet``, and only once the
work has taken more than a couple of seconds, so short runs print nothing
extra.  The line is redrawn a few times a second at most and erased at the
end, so what the command prints after it is left as it would be without it.
"""
from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import BinaryIO, Iterator, TextIO

DELAY = 2.0  # seconds of work before anything is shown
REDRAW = 0.25  # seconds between redraws
MB = 1 << 20


def wanted(quiet: bool, stream: TextIO | None = None) -> bool:
    """Whether progress may be shown: not --quiet, and stderr is a terminal."""
    stream = stream if stream is not None else sys.stderr
    try:
        return not quiet and stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """Work measured in bytes (``total``, 0 when unknown); ``advance`` as it is done."""

    def __init__(self, total: int, label: str, *, enabled: bool = True,
                 stream: TextIO | None = None, clock=time.monotonic) -> None:
        self.total = total
        self.label = label
        self.enabled = enabled
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._started = clock()
        self._drawn_at = 0.0
        self._width = 0  # of the line on screen, to erase it
        self._lock = threading.Lock()  # the ticking thread draws too
        self._ticking = False

    def advance(self, count: int) -> None:
        self.done += count
        if not self.enabled:
            return
        now = self._clock()
        if now - self._started >= DELAY and now - self._drawn_at >= REDRAW:
            self._draw(now)

    def line(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        text = f"{self.label}: {self.done / MB:,.0f}"
        if self.total:
            text += f" of {self.total / MB:,.0f}"
        text += f" MB, {rate / MB:.1f} MB/s"
        if self.total and rate > 0 and self.done < self.total and not self._ticking:
            text += f", {_duration((self.total - self.done) / rate)} left"
        if self._ticking:  # inside one step: the bytes stand still, the clock does not
            text += f", {_duration(elapsed)} elapsed"
        return text

    def _draw(self, now: float) -> None:
        with self._lock:
            text = self.line(now)
            pad = " " * max(0, self._width - len(text))
            self._write("\r" + text + pad)
            self._width = len(text)
            self._drawn_at = now

    def close(self) -> None:
        """Erase the line, if one was drawn (also before printing something else:
        the next advance draws it again)."""
        with self._lock:
            if self._width:
                self._write("\r" + " " * self._width + "\r")
                self._width = 0

    @contextmanager
    def ticking(self) -> Iterator["Progress"]:
        """Around one long step whose bytes are not counted as it goes (a file fixed,
        split, acknowledged, validated by pyx12, a reference file imported): a
        thread redraws the line with the time elapsed, once the run has taken
        ``DELAY`` seconds; the line is erased when the step ends, before the
        command prints what the step did."""
        if not self.enabled:
            yield self
            return
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(REDRAW):
                now = self._clock()
                if self.enabled and now - self._started >= DELAY:
                    self._draw(now)

        self._ticking = True
        thread = threading.Thread(target=tick, name="edi837-progress", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()
            self._ticking = False
            self.close()

    clear = close

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            self.enabled = False  # the terminal went away: the work goes on

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def reading(self, raw: BinaryIO) -> "CountedReader":
        """``raw`` with what is read from it counted as done."""
        return CountedReader(raw, self)


class CountedReader:
    """A binary file whose reads advance a Progress."""

    def __init__(self, raw: BinaryIO, progress: Progress) -> None:
        self.raw = raw
        self.progress = progress

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.progress.advance(len(data))
        return data


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def total_size(paths) -> int:
    """Bytes in these files (those that can be read)."""
    import os

    from .locations import is_url, size_of

    total = 0
    for path in paths:
        if is_url(path):
            total += size_of(path) or 0
            continue
        try:
            total += os.stat(path).st_size
        except OSError:
            pass
    return total
