"""The ``micrograd-x`` command line: demos and tools built on the public API.

Imports the engine and, lazily, whatever a subcommand needs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from micrograd_x.engine import Value, dot

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    # The seed's neuron: weighted inputs plus a bias, through an activation.
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = dot([w1, w2], [x1, x2], b)
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    print("A neuron: o = tanh(w1*x1 + w2*x2 + b)")
    print(f"{'node':>4} {'data':>10} {'grad':>10}")
    for v in (x1, x2, w1, w2, b, n, o):
        print(f"{v.label:>4} {v.data:>10.4f} {float(v.grad):>10.4f}")
    print("local partials of n (∂n/∂w1, ∂n/∂w2, ∂n/∂x1, ∂n/∂x2, ∂n/∂b):", n.partials)
    print("chain rule: ∂o/∂w1 = ∂o/∂n · ∂n/∂w1 =", f"{o.partials[0]:.4f} × {n.partials[0]:.4f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        The exit code: 0 on success, 1 on failure, 2 on a usage error.
    """
    parser = argparse.ArgumentParser(prog="micrograd-x", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="build a neuron, backpropagate, print values and gradients")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code
