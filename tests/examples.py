"""Example graphs shared by several test modules."""

from __future__ import annotations

from micrograd_x import Value


def lecture(a: Value, b: Value, c: Value, f: Value) -> Value:
    """The micrograd lecture's example L = (a·b + c)·f, labelled as in the lecture."""
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    out = d * f
    out.label = "L"
    return out
