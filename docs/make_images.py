"""Regenerate the pictures of the README in ``docs/images/``: ``python docs/make_images.py``.

Runs ``micrograd-x demo`` in-process (loss curve, decision boundary, gradient flow) and draws the
README's neuron with the chain to ``w1`` highlighted. Imports the standard library and
micrograd_x; needs matplotlib and Graphviz's ``dot``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from micrograd_x import Parameter, Value, dot
from micrograd_x.cli import main as cli
from micrograd_x.render import draw

__all__ = ["IMAGES", "main", "neuron"]

IMAGES = Path(__file__).resolve().parent / "images"


def neuron() -> tuple[Value, Parameter]:
    """The README's neuron ``o = tanh(w1·x1 + w2·x2 + b)``, backpropagated.

    Returns:
        The output ``o`` and the weight ``w1`` (∂o/∂w1 = 0.5 × 2 = 1).
    """
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Parameter(-3.0, label="w1"), Parameter(1.0, label="w2")
    b = Parameter(6.8813735870195432, label="b")
    n = dot([w1, w2], [x1, x2], b)
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, w1


def main() -> int:
    """Write every README picture.

    Returns:
        0 on success, else the demo's exit code.
    """
    code = cli(["demo", "--out", str(IMAGES), "--no-progress"])
    if code:
        return code
    o, w1 = neuron()
    path = draw(o, wrt=w1).save(IMAGES / "neuron.svg")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
