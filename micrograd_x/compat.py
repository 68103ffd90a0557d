"""micrograd's (and PyTorch's) names for a node, answered, or refused with advice.

:class:`MicrogradNames` gives ``Value`` micrograd's ``_prev``, ``_op`` and ``_backward``; the
names a Value spells differently (``grad_fn``, ``_children``, ...) and micrograd's internal
constructor ``Value(data, _children, _op)`` get an error that says what to write instead.
Imports the standard library and :mod:`micrograd_x.ops`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Protocol

from micrograd_x.ops import CONST, Op

__all__ = ["HINTS", "MicrogradNames", "attribute_error", "constructor_error"]


class _Node(Protocol):
    """What micrograd's names read of a node."""

    op: Op | None
    params: Mapping[str, float] | None
    _grad: Any

    @property
    def parents(self) -> tuple[Any, ...]: ...

    @property
    def partials(self) -> tuple[Any, ...]: ...


class MicrogradNames:
    """micrograd's names on a node (a base of ``Value``), and advice for unknown attributes."""

    __slots__ = ()

    @property
    def _prev(self: _Node) -> frozenset[Any]:
        """The set of distinct parents, micrograd's name (read-only; see ``parents``)."""
        return frozenset(self.parents)

    @property
    def _op(self: _Node) -> str:
        """The op's symbol as micrograd writes it, micrograd's name (see ``op``).

        ``"+"``, ``"*"``, ``"ReLU"``, ``"tanh"``, ``"**2"``, …; ``""`` for a leaf or a constant.
        """
        op = self.op
        return "" if op is None or op is CONST else op.micrograd_op(self.params)

    def _backward(self: _Node) -> None:
        """This node's chain-rule step: add ``grad`` × each local partial into its parents.

        micrograd's per-node step, for stepping through backpropagation by hand: set
        ``out.grad = 1.0``, then call ``_backward()`` on each node from the output down.
        ``backward()`` does the whole pass (and checks it).
        """
        g = self._grad
        for parent, d in zip(self.parents, self.partials):
            parent._grad = parent._grad + d * g

    def __getattr__(self, name: str) -> Any:
        # Reached only when normal lookup fails, so it costs nothing on the hot path.
        raise attribute_error(self, name)


HINTS = {
    "_children": "parents (the op's inputs in order; _prev is their set)",
    "children": "parents (the op's inputs in order; _prev is their set)",
    "prev": "parents (the op's inputs in order; _prev is their set)",
    "grad_fn": "op (the op record) and partials (its local derivatives)",
    "_partials": "partials",
    "local_grads": "partials",
    "requires_grad": "is_constant (constants need no gradient)",
    "numpy": "item() or data (the float)",
    "tolist": "item() or data (the float)",
}
"""micrograd and PyTorch names that a Value spells differently."""


def attribute_error(obj: object, name: str) -> AttributeError:
    """The error for an attribute ``obj`` lacks: with the name to use, or the closest one."""
    hint = HINTS.get(name)
    if hint is None and not name.startswith("__"):
        public = [n for n in dir(type(obj)) if not n.startswith("__")]
        close = difflib.get_close_matches(name, public, n=1)
        hint = close[0] if close else None
    more = f"; did you mean {hint}?" if hint else ""
    return AttributeError(f"{type(obj).__name__!r} object has no attribute {name!r}{more}")


def constructor_error(
    label: object, extra: tuple[object, ...], kwargs: dict[str, object]
) -> TypeError:
    """The error for ``Value(data, label, *extra, **kwargs)`` with a wrong label or extras."""
    micrograd = bool(extra) or "_children" in kwargs or "_op" in kwargs
    if not micrograd and kwargs:
        return TypeError(f"Value: unexpected keyword argument(s) {sorted(kwargs)}")
    if micrograd or isinstance(label, (tuple, list, set, frozenset)):
        return TypeError(
            "Value(data, _children, _op) is micrograd's internal constructor; in micrograd_x "
            "Value(data, label=None) makes a leaf, and interior nodes are made by applying ops "
            "(a + b, a * b, a.tanh(), micrograd_x.apply('add', a, b)), which store each local "
            "partial derivative as data. A new op is an Op record (forward and partials rule) "
            "added with micrograd_x.ops.register, then applied with apply()."
        )
    return TypeError(f"Value: label must be a str or None, got {type(label).__name__}")
