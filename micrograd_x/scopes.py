"""Module scopes: the name of the module that builds a node, for grouping nodes in diagrams.

:func:`name_scope` tags every node created inside its block (``Module`` calls enter their own);
the scope lives in a :class:`contextvars.ContextVar`, :data:`SCOPE`, so threads and asyncio tasks
building models at the same time each see only their own. Imports the standard library only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["SCOPE", "name_scope"]

SCOPE: ContextVar[str | None] = ContextVar("micrograd_x.name_scope", default=None)
"""The module scope new nodes are tagged with (set by :func:`name_scope`), per thread and task."""


@contextmanager
def name_scope(name: str) -> Iterator[str]:
    """Tag every node created inside the block with a module scope, for grouping in diagrams.

    Scopes nest with dots: ``name_scope("layer1")`` then ``name_scope("neuron3")`` gives
    ``"layer1.neuron3"``.

    Args:
        name: The scope's name (a module's name).

    Yields:
        The full dotted scope.
    """
    outer = SCOPE.get()
    scope = name if outer is None else f"{outer}.{name}"
    token = SCOPE.set(scope)
    try:
        yield scope
    finally:
        SCOPE.reset(token)
