"""Interactive exploration: step through the backward pass, click a node, move an input.

``explore(root)`` or ``explore(f, x=1.0, y=2.0)`` returns an :class:`Explorer`. In Jupyter it
shows as a widget: ◀ ▶ step through the chain rule one node at a time, in the engine's own order
(``a.grad += 2.014 × 1.4 = 2.819``; gradients not reached yet show "?"); click a node to highlight
its paths to the output (or to a chosen input) and read its :func:`~micrograd_x.chainrule.explain`
table; for ``explore(f, ...)``, move a slider and forward and backward rerun, the numbers, edge
widths and caption changing in place (a new layout only when the graph's structure changes, e.g.
a ``max`` picking the other input). ``Explorer.save("chain.html")`` writes the same explorer as
one self-contained page (inline SVG and script, no network) for slides and course pages.

Why anywidget: the widget is one plain ES module (``micrograd_x/static/explore.js``) with no
build step and no JupyterLab extension to install; anywidget loads it in JupyterLab, Notebook 7,
VS Code and Colab alike, and the same file runs unchanged in the saved page, so the browser tests
of the page test the widget's front end too. ipywidgets' built-in controls cannot draw into an
SVG, and a custom ipywidgets front end would need a compiled extension per Jupyter flavour.
anywidget is the optional extra ``micrograd-x[widgets]``; saving a page needs only Graphviz.

Python computes everything: the layout (Graphviz, once per structure), the texts of every state
and the backward schedule; the script only shows them. Imports the standard library and
micrograd_x's engine, graph and file helpers; the explorer's other modules load with it, the
widget (anywidget) on first display.
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from micrograd_x._files import write_atomic
from micrograd_x._text import fmt
from micrograd_x.engine import Parameter, Value, apply, constant
from micrograd_x.explore_layout import Layout, layout, structure
from micrograd_x.explore_state import (
    UNREACHED,
    equation_names,
    explain_html,
    highlights,
    schedule,
    state,
    trace_values,
)
from micrograd_x.graph import Graph, walk

__all__ = ["MAX_NODES", "Explorer", "explore"]

MAX_NODES = 400
"""The most values an explorer draws; larger graphs are unreadable as one picture."""

_PAIR_LIMIT = 600
"""A saved page includes the node-to-input tables when there are at most this many pairs."""

_LAYOUTS_KEPT = 8
"""Layouts kept per explorer, so a branch flipping back and forth does not lay out again."""

WIDGETS_HINT = (
    "the explorer widget needs anywidget: pip install 'micrograd-x[widgets]' "
    "(explore(...).save('page.html') works without it)"
)


def _number(x: object, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{where} must be a real number, got {type(x).__name__} {x!r}")
    f = float(x)
    if not math.isfinite(f):
        raise ValueError(f"{where} must be a finite number, got {f!r}")
    return f


def _clone(root: Value) -> Value:
    """A private copy of ``root``'s graph: same ops, inputs, values, labels and scopes."""
    _, index = walk(root)
    values = list(index)  # in node order
    copies: list[Value] = []
    for v in values:
        if v.is_constant:
            c = constant(v.data)
        elif v.is_leaf:
            c = (Parameter if isinstance(v, Parameter) else Value)(v.data, v.label)
        else:
            assert v.op is not None
            params = dict(v.params) if v.params else {}
            c = apply(v.op, *[copies[index[p]] for p in v.parents], **params)
            c.label = v.label
        c.scope = v.scope
        copies.append(c)
    return copies[-1]


class _Computed:
    """Everything shown for one set of input values."""

    def __init__(self, root: Value) -> None:
        copy = _clone(root)
        if copy.label is None:
            copy.label = "out"  # equations read "out.grad = 1" rather than a node id
        copy.backward()  # the engine's own backward, on a private copy
        self.root = copy
        self.graph, self.values = trace_values(copy)
        self.names = equation_names(self.graph)
        self.steps = schedule(self.graph, self.values, self.names)


class Explorer:
    """An interactive view of a computation graph's backward pass (see :func:`explore`).

    The explorer works on a private copy of the graph, with gradients from a fresh backward
    pass: exploring never changes the user's gradients.
    """

    def __init__(
        self,
        build: Callable[[Mapping[str, float]], Value],
        inputs: Mapping[str, tuple[float, float, float]],
        max_nodes: int = MAX_NODES,
    ) -> None:
        self._build = build
        self._ranges = {k: (lo, hi) for k, (_, lo, hi) in inputs.items()}
        self._inputs = {k: v for k, (v, _, _) in inputs.items()}
        self._max_nodes = max_nodes
        self._layouts: OrderedDict[tuple[object, ...], tuple[Layout, dict[str, Any]]] = (
            OrderedDict()
        )
        self._listeners: list[Callable[[], None]] = []
        self._commit(self._compute(self._inputs))

    # -- computing ----------------------------------------------------------------------------

    def _compute(self, inputs: Mapping[str, float]) -> _Computed:
        root = self._build(inputs)
        if not isinstance(root, Value):
            raise TypeError(
                f"explore: the function returned {type(root).__name__} {root!r}; it must return "
                "a Value computed from its inputs"
            )
        computed = _Computed(root)
        n = len(computed.graph.nodes)
        if n > self._max_nodes:
            raise ValueError(
                f"explore: the graph has {n} values, more than max_nodes={self._max_nodes}; "
                "explore a smaller graph, or draw it collapsed with micrograd_x.draw"
            )
        return computed

    def _commit(self, c: _Computed) -> None:
        root_name = c.names[c.graph.root]
        caption = f"{root_name} = {fmt(c.root.data)}"
        if self._inputs:
            caption += " at " + ", ".join(f"{k} = {fmt(v)}" for k, v in self._inputs.items())
        st = state(c.graph, c.steps, c.names, caption)
        key = structure(c.graph)
        found = self._layouts.get(key)
        if found is None:
            lay = layout(
                c.graph,
                [n["value"] for n in st["nodes"]],
                [n["grad"] for n in st["nodes"]],
                [e["partial"] for e in st["edges"]],
            )
            found = (lay, self._scene(c.graph, c.names, lay))
            self._layouts[key] = found
            while len(self._layouts) > _LAYOUTS_KEPT:
                self._layouts.popitem(last=False)
        else:
            self._layouts.move_to_end(key)
        self._c = c
        self._state = st
        self._layout, self._scene_data = found

    @staticmethod
    def _scene(graph: Graph, names: list[str], lay: Layout) -> dict[str, Any]:
        marks = highlights(graph)
        return {
            "svg": lay.svg,
            "unreached": UNREACHED,
            "output": graph.nodes[graph.root].id,
            "nodes": [{"id": n.id, "name": names[n.index], **marks[n.index]} for n in graph.nodes],
            "edges": [
                {
                    "id": f"e{k}",
                    "source": graph.nodes[e.source].id,
                    "destination": graph.nodes[e.destination].id,
                }
                for k, e in enumerate(graph.edges)
            ],
            "targets": [
                {"id": n.id, "name": names[n.index]}
                for n in graph.nodes
                if n.role in ("input", "parameter")
            ],
        }

    # -- public -------------------------------------------------------------------------------

    @property
    def graph(self) -> Graph:
        """The traced graph of the current values."""
        return self._c.graph

    @property
    def output(self) -> Value:
        """The output of the current values (a private copy of the graph)."""
        return self._c.root

    @property
    def inputs(self) -> dict[str, float]:
        """The current value of each named input (empty for ``explore(root)``)."""
        return dict(self._inputs)

    @property
    def steps(self) -> tuple[Any, ...]:
        """The backward pass as :class:`~micrograd_x.explore_state.Step` records, root first."""
        return self._c.steps

    def scene(self) -> dict[str, Any]:
        """The drawing and what depends only on the graph's structure (JSON-ready).

        The same object is returned while the structure stays the same.
        """
        return self._scene_data

    def state(self) -> dict[str, Any]:
        """The texts, edge widths and backward steps of the current values (JSON-ready)."""
        return self._state

    def input_controls(self) -> list[dict[str, Any]]:
        """One slider description per input: ``{"name", "value", "min", "max", "step"}``."""
        out = []
        for k, v in self._inputs.items():
            lo, hi = self._ranges[k]
            out.append({"name": k, "value": v, "min": lo, "max": hi, "step": (hi - lo) / 200})
        return out

    def set_input(self, name: str, value: float) -> bool:
        """Give input ``name`` a new value; forward and backward run again.

        A failure (a bad value, or the function raising, e.g. ``log`` of a negative number)
        changes nothing.

        Args:
            name: The input's name, as passed to :func:`explore`.
            value: Its new value.

        Returns:
            Whether the graph's structure changed (then :meth:`scene` has a new layout).

        Raises:
            KeyError: If there is no such input.
            TypeError, ValueError: If ``value`` is not a finite real number.
        """
        if name not in self._inputs:
            known = ", ".join(self._inputs) or "none (explore(root) has no inputs to set)"
            raise KeyError(f"explore: no input named {name!r}; the inputs are {known}")
        x = _number(value, f"explore: input {name!r}")
        inputs = {**self._inputs, name: x}
        computed = self._compute(inputs)
        old = self._scene_data
        previous = self._inputs
        self._inputs = inputs
        try:
            self._commit(computed)
        except BaseException:
            self._inputs = previous
            raise
        for listener in self._listeners:
            listener()
        return self._scene_data is not old

    def explain_html(self, node: str, target: str = "") -> str:
        """The chain-rule table for a clicked node, as an HTML fragment.

        Args:
            node: The node's id (``"v3"``).
            target: ``""`` for d(output)/d(node); an input's id for d(node)/d(input), the
                paths between the two.

        Raises:
            KeyError: If an id is unknown.
        """
        graph, values = self._c.graph, self._c.values
        v = values[graph.node(node).index]
        if not target:
            return explain_html(self._c.root, v)
        return explain_html(v, values[graph.node(target).index], compare=False)

    def explanations(self, pairs: bool = True) -> dict[str, str]:
        """The chain-rule tables a saved page shows without a kernel.

        Every node's table (key ``"v3"``) and, when ``pairs`` and the graph is small, the
        tables between each node and each input it depends on (key ``"v3<v0"``).
        """
        graph = self._c.graph
        out = {n.id: self.explain_html(n.id) for n in graph.nodes}
        targets = [t["id"] for t in self._scene_data["targets"]]
        if pairs and len(targets) * len(graph.nodes) <= _PAIR_LIMIT:
            marks = highlights(graph)
            for n in graph.nodes:
                for t in targets:
                    k = graph.node(t).index
                    if t != n.id and _bit(marks[n.index]["up"], k):
                        out[f"{n.id}<{t}"] = self.explain_html(n.id, t)
        return out

    def save(self, path: str | Path, title: str | None = None) -> Path:
        """Write the explorer as one self-contained HTML page (no network, no kernel).

        Args:
            path: The file to write (``.html`` or ``.htm``); written atomically.
            title: The page's title (default: "<output>: the backward pass, step by step").

        Returns:
            The path written.

        Raises:
            ValueError: If the suffix is not ``.html`` or ``.htm``.
        """
        from micrograd_x.explore_page import page_html

        p = Path(path)
        if p.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"Explorer.save: expected a .html path, got {str(path)!r}")
        c = self._c
        default = f"{c.names[c.graph.root]}: the backward pass, step by step"
        text = page_html(self.scene(), self.state(), self.explanations(), title or default)
        return write_atomic(p, text)

    # -- Jupyter ------------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change of the inputs (the widget listens)."""
        self._listeners.append(listener)

    @property
    def widget(self) -> Any:
        """The Jupyter widget (an ``anywidget.AnyWidget``), created on first use.

        Raises:
            ImportError: If anywidget is not installed.
        """
        w = getattr(self, "_widget", None)
        if w is None:
            try:
                from micrograd_x.explore_widget import ExplorerWidget
            except ImportError as e:
                raise ImportError(f"{WIDGETS_HINT} ({e})") from None
            w = ExplorerWidget(self)
            self._widget = w
        return w

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        try:
            return self.widget._repr_mimebundle_(include=include, exclude=exclude)
        except Exception as e:  # a display method never raises: fall back to the picture
            note = f"(static picture: {e})"
            return {
                "text/html": f"<div>{self._layout.svg}<p>{_escape(note)}</p></div>",
                "text/plain": f"{self!r} {note}",
            }

    def __repr__(self) -> str:
        n = len(self._c.graph.nodes)
        return f"Explorer({self._state['caption']!r}, {n} values, {len(self.steps)} steps)"


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def _bit(mask: str, j: int) -> bool:
    return bool(int(mask[j >> 2], 16) >> (j & 3) & 1)


def _input_spec(name: str, spec: object) -> tuple[float, float, float]:
    """``x=2.0`` or ``x=(2.0, lo, hi)`` as (value, slider min, slider max)."""
    where = f"explore: input {name!r}"
    if isinstance(spec, tuple):
        if len(spec) != 3:
            raise TypeError(f"{where}: give a number or (value, low, high), got {spec!r}")
        v, lo, hi = (_number(x, where) for x in spec)
        if not lo <= v <= hi:
            raise ValueError(f"{where}: need low <= value <= high, got {spec!r}")
        if lo == hi:
            raise ValueError(f"{where}: low and high are equal in {spec!r}")
        return v, lo, hi
    v = _number(spec, where)
    span = max(2.0, 2.0 * abs(v))
    return v, v - span, v + span


def explore(
    target: Value | Callable[..., Value],
    /,
    *,
    max_nodes: int = MAX_NODES,
    **inputs: float | tuple[float, float, float],
) -> Explorer:
    """Explore a graph's backward pass interactively (Jupyter widget, or a saved HTML page).

    Args:
        target: The output ``Value`` of a graph, or a function of named ``Value`` inputs that
            returns one.
        max_nodes: Refuse graphs with more values than this (see :data:`MAX_NODES`).
        **inputs: For a function: each input's starting value, or ``(value, low, high)`` to
            set its slider's range (default: the value ± max(2, 2·|value|)).

    Returns:
        The explorer: display it in Jupyter, or ``.save("chain.html")``.

    Raises:
        TypeError: If ``target`` is neither, a function gets no inputs, a ``Value`` gets some,
            or an input is not a number.
        ValueError: If an input is not finite or the graph is larger than ``max_nodes``.
        micrograd_x.explore_layout.LayoutError: If Graphviz is not installed.

    Example:
        >>> from micrograd_x import explore
        >>> ex = explore(lambda a, b: (a * b).tanh(), a=0.5, b=-1.0)
        >>> ex.steps[2].lines
        ('a.grad += 0.7864 × -1 = -0.7864', 'b.grad += 0.7864 × 0.5 = 0.3932')
    """
    if isinstance(target, Value):
        if inputs:
            raise TypeError(
                f"explore: a Value takes no inputs (got {', '.join(inputs)}); to move inputs, "
                "pass a function: explore(f, x=1.0)"
            )
        root = target
        return Explorer(lambda _: root, {}, max_nodes)
    if not callable(target):
        raise TypeError(
            f"explore: expected a Value or a function returning one, got "
            f"{type(target).__name__} {target!r}"
        )
    if not inputs:
        raise TypeError("explore: name the function's inputs with values, e.g. explore(f, x=1.0)")
    specs = {k: _input_spec(k, s) for k, s in inputs.items()}
    f = target

    def build(values: Mapping[str, float]) -> Value:
        return f(**{k: Value(v, label=k) for k, v in values.items()})

    return Explorer(build, specs, max_nodes)
