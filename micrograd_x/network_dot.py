"""DOT text of the network view: columns of units at pinned positions, one line per weight.

:func:`network_dot` writes a :class:`~micrograd_x.network.NetworkView`: the inputs, each layer
and the loss in columns left to right, neurons in index order, every weight one straight line
whose width is its gradient on a log scale and whose colour is its sign; dead neurons are
dashed and faded. Positions are computed here and pinned (Graphviz's ``neato`` keeps them). The
text is deterministic and golden-testable. Imports :mod:`micrograd_x.network`,
:mod:`micrograd_x.dot_palette`, :mod:`micrograd_x._text` and the standard library; never
graphviz.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from micrograd_x._text import escape, fmt
from micrograd_x.dot_palette import (
    BORDER,
    EDGE,
    FADED_INK,
    FADED_LINE,
    NEGATIVE,
    POSITIVE,
    caption_label,
    quoted,
)
from micrograd_x.network import Connection, NetworkView, Unit

__all__ = ["network_dot"]

_COLUMN_GAP = 2.3
"""Inches between column centres."""
_ROW_GAP = 0.6
"""Inches between unit centres in a column."""
_MIN_WIDTH = 0.5
_MAX_WIDTH = 4.5
_DECADES = 4
"""Edge widths span this many powers of ten below the largest gradient (log scale)."""


def _width(magnitude: float, top: float) -> float:
    """An edge width on a log scale: the largest gradient gets the widest line."""
    if top <= 0 or magnitude <= 0:
        return _MIN_WIDTH
    r = math.log10(magnitude / top) / _DECADES + 1
    return _MIN_WIDTH + (_MAX_WIDTH - _MIN_WIDTH) * min(max(r, 0.0), 1.0)


def _unit_label(u: Unit, digits: int, samples: int) -> tuple[str, str, str]:
    """(HTML label, tooltip, style attributes) of a unit."""
    name = escape(u.name, "html", 20)
    if u.kind == "input":
        return f"<B>{name}</B>", f"input {u.name}", 'style="rounded,filled", fillcolor="#e8e8e8"'
    if u.kind in ("loss", "penalty"):
        value = fmt(u.value or 0.0, digits)
        tip = f"{u.name} = {u.value!r}: {len(u.members)} values"
        if u.kind == "penalty":
            body = f"<B>{name}</B><BR/>= {value}"
            tip += " (the terms on the parameters, folded into one box)"
            return body, tip, 'style="rounded,filled", fillcolor="#f4f4f4"'
        body = f"<B>{name}</B><BR/>= {value}"
        if samples > 1:
            body += f'<BR/><FONT POINT-SIZE="10">{samples} samples</FONT>'
        return body, tip, 'style="rounded,filled", fillcolor="#d9ead3"'
    act = escape(u.activation or "", "html")
    tip = f"{u.scope}: {u.activation}, mean |∂L/∂w| = {u.mean_grad!r}"
    if u.bias_grad is not None:
        tip += f", ∂L/∂b = {u.bias_grad!r}"
    if u.dead:
        body = (
            f'<FONT COLOR="{FADED_INK}"><B>{name}</B><BR/>'
            f'<FONT POINT-SIZE="10">{act} · dead: no gradient</FONT></FONT>'
        )
        return (
            body,
            tip + " (dead: no gradient for any sample)",
            f'style="rounded,dashed,filled", fillcolor="#ffffff", color="{FADED_INK}", '
            'penwidth="1.5"',
        )
    body = f'<B>{name}</B><BR/><FONT POINT-SIZE="10">{act} · |∂L/∂w| {fmt(u.mean_grad, 2)}</FONT>'
    return body, tip, 'style="rounded,filled", fillcolor="#f4f4f4"'


def _connection_stmt(c: Connection, top: float, units: Mapping[str, Unit], samples: int) -> str:
    head, tail = units[c.source], units[c.destination]
    src, dst = head.scope or head.name, tail.scope or tail.name
    if head.kind == "penalty":
        # d(loss)/d(penalty) is 1: a plain line, outside the scale of the weights.
        tip = f"{src} → {dst}: ∂L/∂({src}) = {c.grad!r}"
        return f'{c.source} -> {c.destination} [penwidth="1.5", tooltip={quoted(tip)}]'
    if c.kind == "weight":
        w = f"w = {c.weight!r}, " if c.weight is not None else ""
        tip = f"{src} → {dst}: {w}∂L/∂w = {c.grad!r}"
    else:
        tip = f"{src} → {dst}: Σ|∂L/∂out| over {samples} samples = {c.magnitude!r}"
    attrs = [f'penwidth="{_width(c.magnitude, top):.2f}"', f"tooltip={quoted(tip)}"]
    if c.kind == "loss" and c.magnitude:
        # Σ over samples of |∂L/∂output|: a magnitude, drawn without a sign colour.
        attrs.append(f'color="{EDGE}"')
        return f"{c.source} -> {c.destination} [{', '.join(attrs)}]"
    if c.magnitude == 0:
        # No gradient: a faint dotted line (text contrast rules do not apply to it).
        attrs.append(f'style=dotted, color="{FADED_LINE}"')
    else:
        colour = POSITIVE[2] if c.grad > 0 else NEGATIVE[2] if c.grad < 0 else EDGE
        # Translucent lines: where many cross, the strong ones still show through.
        attrs.append(f'color="{colour}b0"')
    return f"{c.source} -> {c.destination} [{', '.join(attrs)}]"


def network_dot(view: NetworkView, caption: Sequence[str], digits: int = 4) -> str:
    """The DOT text of a network view (laid out by Graphviz's ``neato`` at pinned positions).

    Args:
        view: The columns, units and connections.
        caption: The lines under the picture.
        digits: Significant digits of the numbers shown.

    Returns:
        The DOT text.
    """
    tallest = max((len(c.units) for c in view.columns), default=1)
    top_y = (tallest - 1) / 2 * _ROW_GAP
    out = [
        "digraph micrograd_x_network {",
        '  graph [layout=neato, splines=false, outputorder=edgesfirst, fontname="Helvetica", '
        'fontsize="12", labelloc=b, labeljust=l, pad="0.2"'
        + (f", label=<{caption_label(caption, ())}>" if caption else "")
        + "]",
        '  node [shape=box, fontname="Helvetica", fontsize="12", margin="0.14,0.03", '
        f'color="{BORDER}", pin=true]',
        "  edge [arrowhead=none]",
    ]
    units = {u.id: u for u in view.units}
    last_layer = max(
        (k for k, c in enumerate(view.columns) if c.units and c.units[0].kind == "neuron"),
        default=-1,
    )
    for col, column in enumerate(view.columns):
        x = col * _COLUMN_GAP
        title = escape(column.title, "html", 24)
        n = len(column.units)
        count = ""
        if column.units and column.units[0].kind == "neuron":
            count = f"<BR/>{n} neuron{'s' if n != 1 else ''}"
            if col == last_layer:
                count += " (output)"
        out.append(
            f"  t{col} [id=t{col}, shape=plain, label=<<B>{title}</B>{count}>, "
            f'pos="{x:.2f},{top_y + 0.75:.2f}!"]'
        )
        for k, u in enumerate(column.units):
            y = (n - 1) / 2 * _ROW_GAP - k * _ROW_GAP
            if u.kind == "penalty":
                y = -1.5 * _ROW_GAP
            label, tip, attrs = _unit_label(u, digits, view.samples)
            out.append(
                f"  {u.id} [id={u.id}, label=<{label}>, tooltip={quoted(tip)}, {attrs}, "
                f'pos="{x:.2f},{y:.2f}!"]'
            )
    # The scale is set by the weights; a connection into the loss wider than all gets the top.
    top = max((c.magnitude for c in view.connections if c.kind == "weight"), default=0.0)
    # Thin lines first, so the strong ones are drawn on top.
    for c in sorted(view.connections, key=lambda c: c.magnitude):
        out.append("  " + _connection_stmt(c, top, units, view.samples))
    # The legend: three line widths on the log scale, under the first columns.
    if top > 0:
        y = -top_y - 0.9
        out.append(
            f'  k0 [id=legend, shape=plain, label="line width: |∂L/∂w| (log scale)", '
            f'pos="{0.9:.2f},{y:.2f}!"]'
        )
        for j, m in enumerate((top / 10**_DECADES, top / 10 ** (_DECADES / 2), top)):
            x0 = 2.6 + j * 1.9
            out.append(f'  k{j + 1}a [shape=point, width=0, style=invis, pos="{x0:.2f},{y:.2f}!"]')
            out.append(
                f'  k{j + 1}b [shape=plain, label="{fmt(m, 2)}", pos="{x0 + 0.95:.2f},{y:.2f}!"]'
            )
            out.append(
                f'  k{j + 1}a -> k{j + 1}b [penwidth="{_width(m, top):.2f}", color="{EDGE}", '
                "headclip=true]"
            )
    out.append("}")
    return "\n".join(out) + "\n"
