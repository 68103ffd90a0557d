"""Parameters whose numbers live elsewhere until someone reads them (a replayed ``fit``).

A replayed run keeps its parameters' values and gradients in numpy arrays. Writing them into
every ``Value`` before each callback costs Python time per parameter, mostly wasted when the
callback never looks. :class:`StaleSet` instead marks the parameters *stale* by swapping each
one's class for a twin: a subclass with no slots of its own whose ``__getattribute__`` and
``__setattr__`` watch the four names that hold numbers (``_data``, ``_grad``, ``data``,
``grad``). The engine reads ``other._data`` straight from the slot, but an attribute read goes
through the object's type, so the twin sees it. The first such read or write of any stale
parameter syncs every stale set: each parameter gets its own class back, the owner writes the
arrays into the ``Value``s, and the access proceeds. Every other name (``label``, ``op``,
``__class__`` for ``isinstance``) passes straight through; ``p.__class__`` answers the real
class. A set that nobody reads stays stale, so marking it again costs nothing. Standard library
only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any
from weakref import WeakMethod

__all__ = ["StaleSet", "active", "sync_all"]

_WATCHED = frozenset({"_data", "_grad", "data", "grad"})
_get = object.__getattribute__
_set = object.__setattr__
_del = object.__delattr__

_ACTIVE: list[StaleSet] = []
"""The stale sets whose parameters are stale now."""


def active() -> int:
    """The number of stale sets whose parameters are stale now (0 outside a replayed fit)."""
    return len(_ACTIVE)


def sync_all() -> None:
    """Bring every stale parameter up to date and give it its own class back."""
    while _ACTIVE:
        _ACTIVE[-1].sync()


def _wake(obj: object, real: type) -> None:
    sync_all()
    if type(obj) is not real:  # stale, yet in no set (a copy made without waking): repair
        _set(obj, "__class__", real)


def _make_twin(real: type) -> type:
    """The stale twin of a class: the same layout, watching the four number names."""

    def __getattribute__(self: Any, name: str) -> Any:  # noqa: N807 - the twin's own method
        if name in _WATCHED:
            _wake(self, real)
            return getattr(self, name)
        if name == "__class__":
            return real
        return _get(self, name)

    def __setattr__(self: Any, name: str, value: Any) -> None:  # noqa: N807 - the twin's own method
        if name in _WATCHED:
            _wake(self, real)
            setattr(self, name, value)
        else:
            _set(self, name, value)

    def __delattr__(self: Any, name: str) -> None:  # noqa: N807 - the twin's own method
        if name in _WATCHED:
            _wake(self, real)
            delattr(self, name)
        else:
            _del(self, name)

    def __reduce_ex__(self: Any, protocol: Any) -> Any:  # noqa: N807 - the twin's own method
        # copy, deepcopy and pickle take the class before they read the slots: wake first.
        _wake(self, real)
        return self.__reduce_ex__(protocol)

    namespace = {
        "__slots__": (),
        "__module__": real.__module__,
        "__qualname__": real.__qualname__,
        "__doc__": real.__doc__,
        "__getattribute__": __getattribute__,
        "__setattr__": __setattr__,
        "__delattr__": __delattr__,
        "__reduce_ex__": __reduce_ex__,
    }
    return type(real.__name__, (real,), namespace)


class _Twins(dict[type, type]):
    """Each class's stale twin, made on first need."""

    def __missing__(self, real: type) -> type:
        twin = self[real] = _make_twin(real)
        return twin


_TWINS = _Twins()


class StaleSet:
    """Parameters that may be marked stale while their numbers live in arrays.

    Args:
        params: The parameters (``Value``s, ``Parameter``s or a user's subclass of them).
        write: A bound method that writes the current values and gradients into the
            parameters; called (with their own classes back) when a stale parameter is first
            read or written. It is held weakly, so its owner (which holds this set) and the
            set form no reference cycle.

    Attributes:
        stale: Whether the parameters are stale now.
        marks: How many times the parameters were made stale (one class swap each).
        syncs: How many times they were brought up to date (one class swap each).
    """

    def __init__(self, params: Sequence[Any], write: Callable[[], None]) -> None:
        self.params = list(params)
        self._write = WeakMethod(write)
        self._classes: list[type] = []
        self.stale = False
        self.marks = 0
        self.syncs = 0

    def mark(self) -> None:
        """Make the parameters stale (nothing to do when they already are)."""
        if self.stale:
            return
        sync_all()  # a parameter stale in another set must not get a twin of its twin
        params = self.params
        self._classes = classes = list(map(type, params))
        # Registered before the swap, so an interrupted swap is undone by the next sync.
        self.stale = True
        _ACTIVE.append(self)
        self.marks += 1
        deque(map(_set, params, repeat("__class__"), map(_TWINS.__getitem__, classes)), maxlen=0)

    def sync(self) -> None:
        """Give every parameter its own class back and write their numbers (if stale)."""
        if not self.stale:
            return
        self.stale = False
        _ACTIVE.remove(self)
        deque(map(_set, self.params, repeat("__class__"), self._classes), maxlen=0)
        self.syncs += 1
        write = self._write()
        if write is not None:
            write()
