"""What both kinds of DOT picture share: the colours, quoting user text, the caption.

The graph view (:mod:`micrograd_x.dot_text`) and the network view
(:mod:`micrograd_x.network_dot`) draw with one palette: gradients on the purple-orange diverging
scale and highlighted paths in the Okabe-Ito colours (both colour-blind safe); text keeps a
contrast of at least 4.5:1 with its background (WCAG AA), faded text included. Every piece of user
text passes through :func:`~micrograd_x._text.escape`. Imports :mod:`micrograd_x._text` and the
standard library.
"""

from __future__ import annotations

from collections.abc import Sequence

from micrograd_x._text import escape

__all__ = [
    "BORDER",
    "EDGE",
    "FADED_INK",
    "FADED_LINE",
    "INK",
    "NEGATIVE",
    "PATH_COLOURS",
    "POSITIVE",
    "caption_label",
    "quoted",
]

NEGATIVE = ("#d8daeb", "#b2abd2", "#5e3c99")
"""Light to dark purple: negative gradients."""
POSITIVE = ("#fee0b6", "#fdb863", "#e08214")
"""Light to dark orange: positive gradients."""
PATH_COLOURS = ("#d55e00", "#0072b2", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")
"""One colour per highlighted path (Okabe-Ito)."""
INK = "#222222"
"""Text."""
FADED_INK = "#6e6e6e"
"""Text of faded parts: 5.1:1 on white."""
FADED_LINE = "#c4c4c4"
"""Lines of faded parts and lines with no gradient."""
EDGE = "#555555"
"""Edges with no colour of their own."""
BORDER = "#444444"
"""Box borders."""


def quoted(text: str, limit: int | None = None) -> str:
    """A double-quoted DOT string of escaped user text.

    Args:
        text: The text, any characters.
        limit: Longer text is cut with an ellipsis.

    Returns:
        The quoted, escaped string.
    """
    return f'"{escape(text, "string", limit)}"'


def caption_label(caption: Sequence[str], swatches: Sequence[str | None]) -> str:
    """An HTML caption, one line each; a line with a swatch colour starts with a ■ in it.

    With swatches the caption is a table, the ■ in a cell of its own: a space between text
    runs would depend on the viewer's font being as wide as Graphviz measured it.

    Args:
        caption: The lines.
        swatches: The colour of each line's ■ (``None``: no mark).

    Returns:
        The HTML label, without the enclosing ``<>``.
    """
    if not any(swatches):
        return '<BR ALIGN="LEFT"/>'.join(escape(t, "html") for t in caption) + '<BR ALIGN="LEFT"/>'
    rows = []
    for k, text in enumerate(caption):
        colour = swatches[k] if k < len(swatches) else None
        mark = f'<FONT COLOR="{colour}">■</FONT>' if colour else ""
        rows.append(f'<TR><TD>{mark}</TD><TD ALIGN="LEFT">{escape(text, "html")}</TD></TR>')
    return (
        '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
        + "".join(rows)
        + "</TABLE>"
    )
