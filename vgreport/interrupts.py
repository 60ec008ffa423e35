"""The signals that stop a build: Ctrl-C (SIGINT) and SIGTERM (what a CI runner, systemd, Slurm or
`timeout` sends). Both end a build the same way, through the clean-up that KeyboardInterrupt
already runs (workers stopped, staging folders removed, a Dask cluster closed); the CLI then prints
one line, `interrupted` (exit 130) or `terminated` (exit 143). One module for the api and the runner.

Python raises KeyboardInterrupt wherever the main thread happens to be, and two kinds of place
swallow it: code that catches every exception (WeasyPrint's SVG drawing catches BaseException and
only logs it), and a __del__ method or weakref callback, where Python can only print "Exception
ignored in ..." and go on. `kept()` remembers a signal and raises it again when its block ends;
`_unraisable` drops the printed traceback and has the signal raised again at the next chance.
"""
from __future__ import annotations

import _thread
import contextlib
import signal
import sys
import threading
from typing import Iterator

__all__ = ["Terminated", "SIGNALS", "EXIT_STATUS", "installed", "kept", "deferred", "message"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal's number, the shell's convention


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: a KeyboardInterrupt, so every clean-up written for Ctrl-C runs for it too."""


def _interrupt(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _raise(signum, frame) -> None:
    raise _interrupt(signum)


def signal_of(exc: BaseException) -> int:
    return signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT


def message(exc: KeyboardInterrupt) -> tuple[str, int]:
    """The CLI's one line and exit status for an interrupt."""
    signum = signal_of(exc)
    return ("terminated" if signum == signal.SIGTERM else "interrupted"), EXIT_STATUS[signum]


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _simulate(signum: int) -> None:
    if callable(signal.getsignal(signum)):  # still handled: the command has not ended meanwhile
        _thread.interrupt_main(signum)


def _unraisable(previous):
    """A sys.unraisablehook that drops an interrupt Python could not raise (it landed in a __del__
    or a weakref callback, as WeasyPrint's layout often triggers) instead of printing "Exception
    ignored in ...", and has the signal simulated again a moment later, from a thread, so that it
    is raised outside such code (simulated right here, the handler would run inside this hook).
    Anything else goes to the previous hook."""
    def hook(unraisable) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            again = threading.Timer(0.01, _simulate, (signal_of(unraisable.exc_value),))
            again.daemon = True
            again.start()
            return
        previous(unraisable)
    hook.vgreport = True  # installed once, not wrapped again by a nested block
    return hook


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """The CLI's handlers, for the whole command: SIGINT raises KeyboardInterrupt (Python's default)
    and SIGTERM raises Terminated, where the signal is not ignored (a signal ignored by nohup or a
    shell's background job stays ignored); interrupts that land in a __del__ are raised again
    instead of printed. What was installed before is restored afterwards (tests call the CLI in
    their own process)."""
    if not _main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    hook = sys.unraisablehook
    for signum, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(signum, _raise)
    if not getattr(hook, "vgreport", False):
        sys.unraisablehook = _unraisable(hook)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if handler is not None:  # None: installed outside Python, cannot be put back
                signal.signal(signum, handler)
        sys.unraisablehook = hook


@contextlib.contextmanager
def kept() -> Iterator[None]:
    """Ctrl-C and SIGTERM always stop the block. A signal whose exception is swallowed inside it is
    remembered here and raised again when the block ends, so a build that was interrupted never
    finishes as if it had not been; an error that followed a swallowed interrupt gives way to it.
    Only where a Python handler is installed (SIG_DFL and SIG_IGN are left as they are: a library
    caller's SIGTERM still ends the process) and in the main thread, where signals arrive."""
    if not _main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}

    def remember(signum, frame):
        arrived.append(signum)
        previous[signum](signum, frame)  # raises KeyboardInterrupt or Terminated

    hook = sys.unraisablehook
    for signum, handler in previous.items():
        if callable(handler):
            signal.signal(signum, remember)
    if not getattr(hook, "vgreport", False):
        sys.unraisablehook = _unraisable(hook)
    try:
        yield
    except Exception:
        if arrived:
            raise _interrupt(arrived[0]) from None
        raise
    finally:
        for signum, handler in previous.items():
            if callable(handler):
                signal.signal(signum, handler)
        sys.unraisablehook = hook
    if arrived:
        raise _interrupt(arrived[0])


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A Ctrl-C or SIGTERM that arrives in the block is raised when the block ends, not in its middle
    (a half-built Dask LocalCluster cannot be closed, and distributed's atexit hook then prints a
    traceback); the caller closes what the block built."""
    if not _main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum, handler in previous.items():
        if callable(handler):
            signal.signal(signum, lambda signum, frame: arrived.append(signum))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if callable(handler):
                signal.signal(signum, handler)
    if arrived:
        raise _interrupt(arrived[0])
