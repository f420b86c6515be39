"""Ctrl-C during training: stop at the next step boundary and keep what was learnt.

A KeyboardInterrupt raised while a compiled Numba kernel runs surfaces as a chained
`SystemError: CPUDispatcher ... returned a result with an exception set`, and the
parameters trained so far are lost with the stack. So while training runs, the first
SIGINT only sets a flag; the training loop looks at it between kernel calls, stops there
and returns its result marked interrupted. A second Ctrl-C interrupts at once, as usual.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


_raising = [0]  # how many `raising()` blocks are open


@contextmanager
def raising():
    """Within this block, a training run that Ctrl-C stopped raises KeyboardInterrupt when it
    ends instead of returning its partial result: for callers whose answer a half-trained
    model would make wrong (`symdl check`'s verdicts, `symdl plot`'s figures)."""
    _raising[0] += 1
    try:
        yield
    finally:
        _raising[0] -= 1


class Interruption:
    """Whether Ctrl-C was pressed since training began."""

    def __init__(self):
        self.requested = False


@contextmanager
def deferred():
    """Within this block the first SIGINT sets `.requested` instead of raising.

    Outside the main thread (where Python cannot install signal handlers), or where SIGINT
    is ignored, nothing changes.
    """
    interruption = Interruption()
    if threading.current_thread() is not threading.main_thread():
        yield interruption
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        yield interruption
        return

    def handler(signum, frame):
        if interruption.requested:
            raise KeyboardInterrupt
        interruption.requested = True

    signal.signal(signal.SIGINT, handler)
    try:
        yield interruption
    finally:
        signal.signal(signal.SIGINT, previous)
    if interruption.requested and _raising[0]:
        raise KeyboardInterrupt


def caused_by_interrupt(error: BaseException) -> bool:
    """True for a KeyboardInterrupt, or an error raised while one was being handled (Numba)."""
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__context__
    return False
