"""The collector is off during big loads (`tui.prepare.quiet_collector`), and comes back: when
the last of overlapping loads ends, and while a load hangs for good (a stalled mount), after
its limit. A wall runs for weeks; it must not run them without a collector."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tui.prepare import quiet_collector


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()
    if not was:
        gc.disable()


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    """True once `cond()` holds; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class Load:
    """A big load in a thread of its own that runs until `end()` is called."""

    def __init__(self, max_s: float = 60.0) -> None:
        self.started, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, args=(max_s,), daemon=True)
        self.thread.start()
        assert self.started.wait(10)

    def _run(self, max_s: float) -> None:
        with quiet_collector(True, max_s=max_s):
            self.started.set()
            self.done.wait(30)

    def end(self) -> None:
        self.done.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


def test_a_small_load_leaves_the_collector_alone() -> None:
    with quiet_collector(False):
        assert gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_off_during_a_big_load_and_back_after() -> None:
    with quiet_collector(True):
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_loads_bring_it_back_when_the_last_ends() -> None:
    first = Load()  # blocked on a stalled mount, say
    second = Load()  # the next load, given its turn meanwhile
    first.end()
    assert not gc.isenabled()  # the second still makes its objects
    second.end()
    assert gc.isenabled()


def test_a_load_that_hangs_gets_the_collector_back_after_its_limit() -> None:
    hung = Load(max_s=0.2)
    assert wait_for(gc.isenabled), "the collector stayed off behind a hung load"
    hung.end()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with quiet_collector(True):
        pass
    assert not gc.isenabled()
