"""Text for diagrams and explanations: the one number formatter and the one escaper.

Every number a diagram or an explanation shows goes through :func:`fmt`, and every piece of user
text (labels, scopes) goes through :func:`escape`. Imports the standard library only.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

__all__ = ["Context", "escape", "fmt", "one_line", "visible"]

Context = Literal["html", "string", "markdown", "text"]
"""Where escaped text goes: an HTML-like DOT label, a quoted DOT string, Markdown, plain text."""

_ELLIPSIS = "…"
_REPLACEMENT = "\ufffd"
_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]<>()#+-.!|~&\"'=:$")


def fmt(x: float, digits: int = 4) -> str:
    """Format a number the same way everywhere: ``digits`` significant digits, no ``-0``.

    Args:
        x: The number.
        digits: Significant digits (at least 1).

    Returns:
        ``"2"`` for 2.0, ``"0.7071"`` for 0.70710678, ``"1.5e-7"`` for 1.5e-07 (exponents lose
        their padding zeros), ``"0"`` for both zeros.

    Raises:
        ValueError: If ``digits`` is less than 1.
    """
    if digits < 1:
        raise ValueError(f"fmt: digits must be at least 1, got {digits!r}")
    if x == 0:
        return "0"
    s = f"{x:.{digits}g}"
    mantissa, e, exponent = s.partition("e")
    if not e:
        return s
    sign = "-" if exponent.startswith("-") else ""
    return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"


def _visible_char(c: str) -> str:
    """A printable stand-in for a character that would be invisible or illegal in SVG/XML."""
    o = ord(c)
    if c == "\n":
        return c
    if c == "\t":
        return " "
    if o < 0x20:
        return chr(0x2400 + o)  # the Unicode "control pictures" block: ␀ ␁ … ␟
    if o == 0x7F:
        return "\u2421"  # ␡
    if 0x80 <= o < 0xA0:
        return f"\\x{o:02x}"
    if 0xD800 <= o < 0xE000 or 0xFDD0 <= o <= 0xFDEF or (o & 0xFFFE) == 0xFFFE:
        return _REPLACEMENT  # lone surrogates and noncharacters are not allowed in XML
    return c


def visible(text: str) -> str:
    r"""Make every character of ``text`` visible and legal in XML; keep newlines.

    Control characters become their Unicode pictures (``␀``, ``␛``), C1 controls ``\x85``-style
    text, tabs spaces, ``\r\n`` and ``\r`` newlines, and lone surrogates or noncharacters
    U+FFFD.

    Args:
        text: Any string.

    Returns:
        The cleaned string.
    """
    if not isinstance(text, str):
        raise TypeError(f"visible: expected a str, got {type(text).__name__} {text!r}")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isprintable():
        return text
    return "".join(_visible_char(c) if not c.isprintable() else c for c in text)


def _shorten(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    if limit < 1:
        raise ValueError(f"escape: limit must be at least 1, got {limit!r}")
    cut = text[: limit - 1]
    # Do not split a base character from its combining marks.
    while cut and unicodedata.combining(cut[-1]):
        cut = cut[:-1]
    return cut + _ELLIPSIS


def _entities(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def escape(text: str, context: Context = "html", limit: int | None = None) -> str:
    r"""Escape user text for one place in a diagram or an explanation.

    The text is first made visible (:func:`visible`), then cut to ``limit`` characters with an
    ellipsis, then escaped for its context:

    - ``"html"``: inside an HTML-like DOT label; ``& < > " ' ]`` become entities, newlines
      ``<BR/>`` and backslashes are doubled (Graphviz expands ``\N``, ``\G``, ``\\`` even in
      HTML labels). Record syntax (``| { }``) means nothing there.
    - ``"string"``: inside a double-quoted DOT string (a tooltip); entities as above, newlines
      ``\n``, and a backslash becomes ``⧵`` (U+29F5): Graphviz expands escapes in tooltips a
      version-dependent number of times, so no count of backslashes is right everywhere.
    - ``"markdown"``: ASCII punctuation backslash-escaped, newlines as spaces.
    - ``"text"``: for a terminal; only made visible.

    Args:
        text: User text (a label, a scope).
        context: Where the result goes.
        limit: Cut longer text to this many characters (the last one an ellipsis).

    Returns:
        The escaped text.

    Raises:
        TypeError: If ``text`` is not a string.
        ValueError: If ``context`` is unknown or ``limit`` is less than 1.
    """
    shown = _shorten(visible(text), limit)
    if context == "html":
        # A text run of only "]" is a syntax error in Graphviz's HTML labels: always use "&#93;".
        html = _entities(shown).replace("]", "&#93;").replace("\\", "\\\\")
        return html.replace("\n", "<BR/>")
    if context == "string":
        return _entities(shown).replace("\\", "\u29f5").replace("\n", "\\n")
    if context == "markdown":
        return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in shown).replace("\n", " ")
    if context == "text":
        return shown
    raise ValueError(
        f"escape: unknown context {context!r}; expected 'html', 'string', 'markdown' or 'text'"
    )


def one_line(text: str, context: Context = "text", limit: int | None = None) -> str:
    """A name escaped for ``context`` and kept on one line (formulas, captions, table cells).

    Args:
        text: User text (a label).
        context: Where the result goes (see :func:`escape`).
        limit: Cut longer text to this many characters.

    Returns:
        The escaped text with newlines as spaces.
    """
    return escape(text.replace("\r\n", " ").replace("\r", " ").replace("\n", " "), context, limit)
