"""Python's cyclic garbage collector paused while the library builds a graph that holds no cycles.

Nodes refer only to their inputs, never back, so reference counting frees a graph as soon as it
is dropped and the cyclic collector has nothing to find in one. Yet every node is an object the
collector tracks: while a graph of thousands of nodes is built, the young generation is scanned
every 700 new objects, and the survivors (the whole graph) again by the middle generation and, now
and then, by a full collection of every object of the process. Built with the collector paused,
the graph is scanned once, by the first young collection after the block, and is usually freed
before any older one. :func:`gc_paused` turns the collector off for such a block and puts back
the state it found, so nothing outlives the block: cycles that other code makes meanwhile stay
tracked and are collected later, as usual. Imports the standard library only.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run a block with the cyclic garbage collector off, then restore the state it had.

    The collector is a process-wide switch: a block nested in another, or entered while the
    collector is already off, leaves it as it was. Use it only around code that builds graphs
    (which hold no cycles), never around a whole program.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
