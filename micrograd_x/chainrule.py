"""The chain rule, spelled out: every path from an input to the output and its product.

:func:`explain` lists the paths from ``wrt`` to ``out``, each with its local partials and their
product, and their sum, which is the gradient. It prints as text in a terminal and as a Markdown
table in Jupyter. Imports :mod:`micrograd_x.graph`, :mod:`micrograd_x.engine` and
:mod:`micrograd_x._text`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from micrograd_x._checks import integer
from micrograd_x._text import Context, fmt, one_line
from micrograd_x.engine import Value
from micrograd_x.graph import Graph, walk

__all__ = ["ChainPath", "Explanation", "Factor", "explain", "explain_graph"]

_LIST_PATHS = 3
"""Formulas spell out the paths when there are at most this many…"""
_LIST_FACTORS = 12
"""…with at most this many local partials in all."""


def _operand(name: str) -> str:
    """A name in ``∂a/∂b``, parenthesized when it is an expression (``∂(w1*x1 + b)``)."""
    return f"({name})" if any(c in name for c in " +-*/^(") else name


@dataclass(frozen=True, slots=True)
class Factor:
    """One local partial on a path: d(output)/d(input) along one edge.

    Attributes:
        output: The name of the op's result.
        input: The name of the argument.
        index: The argument position (``x * x`` uses ``x`` at positions 0 and 1).
        value: The local partial.
        repeated: Whether the op takes this input more than once (then the symbol names the
            argument position, as in ``∂v1/∂x (arg 2)``).
    """

    output: str
    input: str
    index: int
    value: float
    repeated: bool = False

    def symbol(self, context: Context = "text", name_limit: int | None = None) -> str:
        """``∂out/∂in``, with the names escaped for ``context`` and cut to ``name_limit``."""
        out = _operand(one_line(self.output, context, name_limit))
        s = f"∂{out}/∂{_operand(one_line(self.input, context, name_limit))}"
        return f"{s} (arg {self.index + 1})" if self.repeated else s


@dataclass(frozen=True, slots=True)
class ChainPath:
    """One path from the output back to the input, and its product of local partials.

    Attributes:
        nodes: Node names from the output back to the input.
        ids: The same nodes' ids (``"v3"``).
        factors: The local partials along the path, from the output back to the input.
        product: Their product (1 for the empty path from a value to itself).
    """

    nodes: tuple[str, ...]
    ids: tuple[str, ...]
    factors: tuple[Factor, ...]
    product: float


@dataclass(frozen=True, slots=True)
class Explanation:
    """The chain rule for d(output)/d(wrt): the paths, their products and their sum.

    Attributes:
        output: The output's name.
        wrt: The input's name.
        paths: The paths in a deterministic order (depth first from the output, arguments in
            order), at most ``max_paths`` of them.
        n_paths: How many paths there are in all (exact, even when not all are listed).
        gradient: The sum over all paths of their products: d(output)/d(wrt).
        grad: ``wrt.grad`` as stored when explained (``None`` if unknown).
    """

    output: str
    wrt: str
    paths: tuple[ChainPath, ...]
    n_paths: int
    gradient: float
    grad: float | None

    @property
    def complete(self) -> bool:
        """Whether every path is listed."""
        return len(self.paths) == self.n_paths

    @property
    def matches(self) -> bool:
        """Whether the sum over paths equals the stored ``wrt.grad`` (to rounding)."""
        return self.grad is not None and math.isclose(
            self.gradient, self.grad, rel_tol=1e-9, abs_tol=1e-12
        )

    def formula(self, digits: int = 4, name_limit: int | None = 24) -> str:
        """The chain rule in one line, e.g. ``∂o/∂w1 = ∂o/∂n · ∂n/∂w1 = 0.5 × 2 = 1 ✓ …``.

        Names are made visible and cut to ``name_limit`` characters but not escaped for any
        markup: escape the line for where it goes.

        Args:
            digits: Significant digits of the numbers.
            name_limit: Longest name shown (``None``: no limit).

        Returns:
            The formula, with a verdict on the stored gradient.
        """
        out, wrt = one_line(self.output, "text", name_limit), one_line(self.wrt, "text", name_limit)
        head = f"∂{out}/∂{wrt}"
        if self.n_paths == 0:
            return f"{head} = 0: {out} does not depend on {wrt}"
        n_factors = sum(len(p.factors) for p in self.paths)
        if self.complete and self.n_paths <= _LIST_PATHS and n_factors <= _LIST_FACTORS:
            symbols, numbers = [], []
            for p in self.paths:
                symbols.append(" · ".join(f.symbol("text", name_limit) for f in p.factors) or "1")
                numbers.append(" × ".join(fmt(f.value, digits) for f in p.factors) or "1")
            body = f"{' + '.join(symbols)} = {' + '.join(numbers)}"
            text = f"{head} = {body} = {fmt(self.gradient, digits)}"
        else:
            text = (
                f"{head} = Σ over {self.n_paths} paths of the product of the local partials "
                f"along each = {fmt(self.gradient, digits)}"
            )
        return f"{text} {self.verdict(digits, name_limit)}".rstrip()

    def verdict(
        self, digits: int = 4, name_limit: int | None = 24, context: Context = "text"
    ) -> str:
        """How the sum over paths compares with the stored ``wrt.grad`` (``""`` if unknown).

        Args:
            digits: Significant digits of the numbers.
            name_limit: Longest name shown (``None``: no limit).
            context: How to escape the names (see :func:`micrograd_x._text.escape`).
        """
        wrt = one_line(self.wrt, context, name_limit)
        out = one_line(self.output, context, name_limit)
        if self.grad is None:
            return ""
        if self.matches:
            return f"✓ equals {wrt}.grad"
        if self.grad == 0.0:
            return f"({wrt}.grad is 0: call {out}.backward() to compare)"
        return (
            f"✗ but {wrt}.grad = {fmt(self.grad, digits)} (grads accumulate over backward "
            f"calls, or came from another output: zero them, then call {out}.backward())"
        )

    # -- display ----------------------------------------------------------------------------

    def _rows(self, digits: int, context: Context) -> list[tuple[str, str, str, str]]:
        rows = []
        for k, p in enumerate(self.paths, 1):
            route = " ← ".join(one_line(n, context) for n in p.nodes)
            factors = (
                " × ".join(f"{f.symbol(context)} = {fmt(f.value, digits)}" for f in p.factors)
                or "(the value itself)"
            )
            rows.append((str(k), route, factors, fmt(p.product, digits)))
        return rows

    def _summary(self, digits: int) -> str:
        listed = "" if self.complete else f" ({len(self.paths)} listed)"
        s = "" if self.n_paths == 1 else "s"
        return f"sum over {self.n_paths} path{s}{listed} = {fmt(self.gradient, digits)}"

    def to_text(self, digits: int = 4) -> str:
        """The explanation as an aligned plain-text table, for a terminal."""
        out, wrt = one_line(self.output, "text"), one_line(self.wrt, "text")
        lines = [f"∂{out}/∂{wrt}: the chain rule, one row per path from {wrt} to {out}"]
        if self.n_paths == 0:
            lines.append(f"no path: {out} does not depend on {wrt}, so ∂{out}/∂{wrt} = 0")
        else:
            rows = [("#", "path", "local partials", "product"), *self._rows(digits, "text")]
            widths = [max(len(r[c]) for r in rows) for c in range(3)]
            for r in rows:
                cells = [r[c].ljust(widths[c]) for c in range(3)]
                lines.append("  ".join([*cells, r[3]]).rstrip())
            lines.append(self._summary(digits))
        verdict = self.verdict(digits, None)
        if verdict:
            lines.append(verdict)
        return "\n".join(lines)

    def to_markdown(self, digits: int = 4) -> str:
        """The explanation as a Markdown table, for Jupyter."""
        out, wrt = one_line(self.output, "markdown"), one_line(self.wrt, "markdown")
        lines = [f"**∂{out}/∂{wrt}**: the chain rule, one row per path from {wrt} to {out}", ""]
        if self.n_paths == 0:
            lines.append(f"No path: {out} does not depend on {wrt}, so ∂{out}/∂{wrt} = 0.")
        else:
            lines += ["| # | path | local partials | product |", "|---:|---|---|---:|"]
            lines += [f"| {' | '.join(r)} |" for r in self._rows(digits, "markdown")]
            lines += ["", f"**{self._summary(digits)}**"]
        verdict = self.verdict(digits, None, "markdown")
        if verdict:
            lines += ["", verdict]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        # A terminal shows the table, not a dump of the dataclass fields.
        return self.to_text()

    def _repr_markdown_(self) -> str:
        try:
            return self.to_markdown()
        except Exception:  # a display method never raises
            return "(explanation could not be shown)"


def _unique_names(graph: Graph) -> list[str]:
    """Node names for formulas; a label used twice is qualified by its scope, then by its id."""
    names = [n.name for n in graph.nodes]
    counts = Counter(names)
    names = [
        f"{n.scope}.{name}" if counts[name] > 1 and n.scope and n.label else name
        for name, n in zip(names, graph.nodes)
    ]
    counts = Counter(names)
    return [
        f"{name}[{n.id}]" if counts[name] > 1 and n.role != "constant" else name
        for name, n in zip(names, graph.nodes)
    ]


def explain_graph(
    graph: Graph, node: int, grad: float | None = None, max_paths: int = 64
) -> Explanation:
    """Spell out d(root)/d(node) in an already traced graph (see :func:`explain`).

    Args:
        graph: The traced graph.
        node: The index of the value to differentiate with respect to.
        grad: Its stored ``grad``, to compare with (``None``: no verdict).
        max_paths: List at most this many paths; the count and the sum always cover all.

    Returns:
        The explanation.

    Raises:
        IndexError: If ``node`` is not a node index of ``graph``.
    """
    names = _unique_names(graph)
    on = graph.descendants(node)
    root = graph.root
    paths: list[ChainPath] = []
    # Depth first from the root through inputs that lie on a path to ``node``; each stack entry
    # is (node, the edges into it, next edge position); ``trail`` holds the edges taken.
    stack: list[tuple[int, list[int], int]] = []
    trail: list[int] = []

    def push(i: int) -> None:
        ks = [k for k in graph.edge_indices_into(i) if graph.edges[k].source in on]
        stack.append((i, ks, 0))

    push(root)
    while stack and len(paths) < max_paths:
        i, ks, pos = stack[-1]
        if i == node:
            factors = []
            product = 1.0
            for k in trail:
                e = graph.edges[k]
                repeated = sum(
                    graph.edges[j].source == e.source
                    for j in graph.edge_indices_into(e.destination)
                )
                factors.append(
                    Factor(names[e.destination], names[e.source], e.index, e.partial, repeated > 1)
                )
                product *= e.partial
            route = [root] + [graph.edges[k].source for k in trail]
            paths.append(
                ChainPath(
                    tuple(names[r] for r in route),
                    tuple(graph.nodes[r].id for r in route),
                    tuple(factors),
                    product,
                )
            )
        if i == node or pos == len(ks):
            stack.pop()
            if trail:
                trail.pop()
            continue
        stack[-1] = (i, ks, pos + 1)
        trail.append(ks[pos])
        push(graph.edges[ks[pos]].source)
    return Explanation(
        names[root],
        names[node],
        tuple(paths),
        graph.count_paths(node),
        graph.adjoints()[node],
        grad,
    )


def explain(out: Value, wrt: Value, max_paths: int = 64) -> Explanation:
    """Spell out d(out)/d(wrt) as the sum over paths of the products of local partials.

    Args:
        out: The output value.
        wrt: The value to differentiate with respect to (an input, a parameter, or any
            intermediate value).
        max_paths: List at most this many paths; the count and the sum always cover all.

    Returns:
        The explanation; ``str()`` gives a text table and Jupyter shows a Markdown table. Its
        ``gradient`` is d(out)/d(wrt), computed from the edge partials alone, and ``matches``
        says whether it equals the stored ``wrt.grad``.

    Raises:
        TypeError: If ``out`` or ``wrt`` is not a ``Value``.
        ValueError: If ``max_paths`` is less than 1.
    """
    if not isinstance(wrt, Value):
        raise TypeError(f"explain: wrt must be a Value, got {type(wrt).__name__} {wrt!r}")
    max_paths = integer("explain: max_paths", max_paths, low=1)
    graph, index = walk(out)
    grad = wrt.grad
    stored = float(grad.data) if isinstance(grad, Value) else float(grad)
    node = index.get(wrt)
    if node is None:
        names = _unique_names(graph)
        return Explanation(names[graph.root], wrt.label or "wrt", (), 0, 0.0, stored)
    return explain_graph(graph, node, stored, max_paths)
