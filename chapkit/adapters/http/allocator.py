"""Allocator tuning: glibc's malloc gives the memory a served service frees back to the system.

Part of the HTTP adapter because serving is what allocates the large buffers (request bodies, encoded
responses); the builder calls `tune_allocator` once per process, when a service is built.

A service parses large request bodies, encodes large responses and runs models on several threads
(the event loop, one thread per SQLite connection, the worker threads of plain model functions).
By default glibc gives threads up to eight arenas per core and keeps in each what its threads freed;
after every large buffer it frees, it raises the size from which it maps buffers of their own, so the
next large ones come from those heaps too, and freed holes in a heap cannot be given back. The
server's resident memory then ratchets up with each large request, well past what any one of them
needs (compare `bench/bad_input.py` with `CHAPKIT_MALLOC_TUNING=0`).

`tune_allocator` sets, through `mallopt`, when the service is built: at most two arenas, a fixed
threshold of 256 KiB from which buffers are mapped on their own (and unmapped when freed), and a
heap top above 1 MiB given back. `CHAPKIT_MALLOC_TUNING=0` turns it off; a setting already made
through glibc's own variables (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`)
is left as it is. Elsewhere than on Linux with glibc (macOS, musl) nothing is changed.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
from collections.abc import Mapping

MALLOC_TUNING_ENV = "CHAPKIT_MALLOC_TUNING"
"""`0`, `false`, `no` or `off` leave the allocator as glibc configured it."""

GC_FREEZE_ENV = "CHAPKIT_GC_FREEZE"
"""`0`, `false`, `no` or `off`: `settle_heap` leaves the garbage collector as it is."""

YOUNG_GC_THRESHOLD = 50_000
"""Allocations between young collections once the heap is frozen (CPython's default is 700)."""

_OFF = frozenset({"0", "false", "no", "off"})
_ON = frozenset({"", "1", "true", "yes", "on"})

# mallopt parameters (malloc.h), the value chapkit sets, and glibc's variable for the same setting.
_SETTINGS = (
    ("M_ARENA_MAX", -8, 2, "MALLOC_ARENA_MAX"),
    ("M_MMAP_THRESHOLD", -3, 256 * 1024, "MALLOC_MMAP_THRESHOLD_"),
    ("M_TRIM_THRESHOLD", -1, 1024 * 1024, "MALLOC_TRIM_THRESHOLD_"),
)


def malloc_tuning_enabled(environ: Mapping[str, str]) -> bool:
    """Whether `CHAPKIT_MALLOC_TUNING` leaves the tuning on (the default); `ValueError` for a value it does not know."""
    value = environ.get(MALLOC_TUNING_ENV, "").strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    raise ValueError(f"{MALLOC_TUNING_ENV} must be 1 or 0 (on or off), got {environ[MALLOC_TUNING_ENV]!r}")


def tune_allocator(environ: Mapping[str, str]) -> dict[str, int]:
    """Tune glibc's malloc for this process (see the module); return the settings made, by `mallopt` name.

    Nothing is made when the tuning is off, off glibc, or for settings glibc's own variables chose.
    Setting them again (every service built in the process does) changes nothing.
    """
    if not malloc_tuning_enabled(environ) or not sys.platform.startswith("linux"):
        return {}
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return {}
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    made: dict[str, int] = {}
    for name, parameter, value, variable in _SETTINGS:
        if variable in environ:
            continue
        if mallopt(parameter, value) == 1:
            made[name] = value
    return made


def settle_heap() -> None:
    """Take what a started service holds for good out of the garbage collector's rounds (`gc.freeze`).

    A started service holds a few hundred thousand objects that live as long as it does (FastAPI,
    SQLAlchemy, pydantic, the routes, the container). Python's oldest-generation collection walked all
    of them every few tens of thousands of allocations: a request that allocates much (a tree of
    thousands of nodes, a page of entities) paid for walks of the whole heap, and the requests that
    happened to trigger one waited tens of milliseconds (the tail of the latency). Frozen after
    start-up, they are never walked again; what requests allocate is collected as before. Called
    once the service has started (the lifespan); `CHAPKIT_GC_FREEZE=0` leaves the collector alone.
    """
    if os.environ.get(GC_FREEZE_ENV, "").strip().lower() in _OFF:
        return
    gc.collect()
    gc.freeze()
    # With the long-lived heap frozen, the oldest generation no longer looks large, and CPython's rule
    # that defers a full collection until a quarter as many objects again have survived stops holding
    # it back: a request that keeps tens of thousands of objects alive (a large tree) triggered several.
    # Young collections every 50,000 allocations (not 700) leave those to the requests that need them.
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_GC_THRESHOLD), middle, old)


def release_heap() -> None:
    """Give the frozen objects back to the collector (`gc.unfreeze`) when a service stops.

    A process that starts and stops services (tests, notebooks) would otherwise keep what each one
    held in cycles for good. The collector's thresholds stay as `settle_heap` left them.
    """
    if gc.get_freeze_count():
        gc.unfreeze()


__all__ = [
    "GC_FREEZE_ENV",
    "MALLOC_TUNING_ENV",
    "YOUNG_GC_THRESHOLD",
    "malloc_tuning_enabled",
    "release_heap",
    "settle_heap",
    "tune_allocator",
]
