"""The ``micrograd-x`` command line: ``demo``, ``draw`` and ``check``.

Imports the engine and the expression parser eagerly; a subcommand imports what it needs (nn,
training, diagrams, gradient checks, matplotlib) when it runs, so ``--help`` stays fast. The
demo itself is :func:`micrograd_x.demo.run_demo`.
Exit codes: 0 success, 1 failure (a failed check, a domain error), 2 usage error.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO, cast

from micrograd_x import ops
from micrograd_x.demo import DEMO_FILES
from micrograd_x.engine import Value
from micrograd_x.expr import Expression, ExpressionError, ParseError, functions, parse

__all__ = [
    "DEMO_FILES",
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "build_parser",
    "main",
    "parse_assignments",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

PROG = "micrograd-x"

_RUNTIME_ERRORS = (ops.DomainError, ZeroDivisionError, OverflowError)
"""What evaluating a well-formed expression at a point may raise: a failure, exit code 1."""


class UsageError(Exception):
    """The command line is wrong (a bad expression, a bad ``--at``): exit code 2.

    Attributes:
        detail: Extra lines printed under the message (e.g. a caret under the bad column).
        prog: The (sub)command to name in the message.
    """

    def __init__(self, message: str, detail: str = "", prog: str = "micrograd-x") -> None:
        super().__init__(message)
        self.detail = detail
        self.prog = prog


class _FailedError(Exception):
    """The command ran but did not succeed (a domain error, a failed check): exit code 1."""


# ---------------------------------------------------------------------------------------------
# Arguments


def parse_assignments(text: str) -> dict[str, float]:
    """Parse ``--at`` text such as ``"x=1.5,y=-2"`` into ``{"x": 1.5, "y": -2.0}``.

    Args:
        text: Comma-separated ``NAME=NUMBER`` pairs; spaces around items are ignored.

    Returns:
        The numbers by name, in the order given.

    Raises:
        UsageError: If an item is not ``NAME=NUMBER``, a name repeats, or a number is not a
            finite real number.
    """
    values: dict[str, float] = {}
    for item in text.split(","):
        name, sep, number = (part.strip() for part in item.partition("="))
        if not sep or not name or not number:
            raise UsageError(f"--at: expected NAME=NUMBER pairs separated by commas, got {item!r}")
        if not (name.isidentifier() and name.isascii()):
            raise UsageError(f"--at: {name!r} is not a variable name")
        if name in values:
            raise UsageError(f"--at: {name!r} is given twice")
        try:
            value = float(number)
        except ValueError:
            raise UsageError(f"--at: the value of {name!r} is not a number: {number!r}") from None
        if not math.isfinite(value):
            raise UsageError(f"--at: the value of {name!r} must be finite, got {number!r}")
        values[name] = value
    return values


def _at_points(groups: Sequence[str] | None) -> dict[str, float]:
    values: dict[str, float] = {}
    for group in groups or ():
        for name, value in parse_assignments(group).items():
            if name in values:
                raise UsageError(f"--at: {name!r} is given twice")
            values[name] = value
    return values


def _parse_expression(text: str) -> Expression:
    try:
        return parse(text)
    except ParseError as err:
        raise UsageError(f"bad expression: {err}", err.caret()) from None


def _leaves(program: Expression, at: dict[str, float]) -> dict[str, Value]:
    try:
        return program.leaves(at)
    except ExpressionError as err:
        raise UsageError(f"--at: {err.reason}") from None


def _evaluate(program: Expression, leaves: dict[str, Value]) -> Value:
    try:
        return program.evaluate(leaves)
    except _RUNTIME_ERRORS as err:
        raise _FailedError(f"cannot evaluate {program.text!r} at {_point(leaves)}: {err}") from None


def _point(leaves: dict[str, Value]) -> str:
    return ", ".join(f"{k}={v.data:g}" for k, v in leaves.items()) or "(no variables)"


def _fmt(x: float) -> str:
    return f"{x:.6g}"


# ---------------------------------------------------------------------------------------------
# draw


_DRAW_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv", ".json")


def _draw(args: argparse.Namespace, out: TextIO) -> int:
    path = Path(args.output)
    if path.suffix.lower() not in _DRAW_SUFFIXES:
        raise UsageError(
            f"-o: cannot tell the format of {args.output!r}; end it with "
            + ", ".join(_DRAW_SUFFIXES)
        )
    program = _parse_expression(args.expression)
    leaves = _leaves(program, _at_points(args.at))
    wrt = _wrt(program, args.wrt)
    root = _evaluate(program, leaves)
    if not root.is_leaf:  # the inner nodes are named after their source text (w1*x1)
        root.label = "out"
    try:
        root.backward()
    except _RUNTIME_ERRORS as err:
        raise _FailedError(f"backward failed at {_point(leaves)}: {err}") from None

    from micrograd_x.chainrule import explain
    from micrograd_x.render import draw

    print(f"{program.text} = {_fmt(root.data)} at {_point(leaves)}", file=out)
    for name, leaf in leaves.items():
        print(f"  ∂/∂{name} = {_fmt(float(leaf.grad))}", file=out)
    if wrt is not None:
        print(file=out)
        print(str(explain(root, wrt=leaves[wrt])), file=out)
    diagram = draw(root, wrt=None if wrt is None else leaves[wrt])
    try:
        diagram.save(path)
    except (OSError, RuntimeError, ValueError) as err:
        raise _FailedError(f"cannot write {str(path)!r}: {err}") from None
    print(f"wrote {path}", file=out)
    return EXIT_OK


def _wrt(program: Expression, wrt: str | None) -> str | None:
    if wrt is None:
        return program.variables[0] if program.variables else None
    if wrt not in program.variables:
        uses = ", ".join(program.variables) or "no variables"
        raise UsageError(f"--wrt: {wrt!r} is not a variable of the expression (it uses {uses})")
    return wrt


# ---------------------------------------------------------------------------------------------
# check


def _check(args: argparse.Namespace, out: TextIO) -> int:
    program = _parse_expression(args.expression)
    at = _at_points(args.at)
    leaves = _leaves(program, at)
    if not program.variables:
        raise UsageError("check: the expression has no variables to differentiate")
    _evaluate(program, leaves)  # a clear error at the point before the checker perturbs it

    from micrograd_x.testing import gradcheck

    inputs = [at[name] for name in program.variables]
    try:
        report = gradcheck(program, inputs, atol=args.atol, rtol=args.rtol, kinks=args.kinks)
    except (*_RUNTIME_ERRORS, ValueError) as err:
        raise _FailedError(
            f"the gradient check could not evaluate {program.text!r}: {err}"
        ) from None
    print(f"gradcheck of {program.text} at {_point(leaves)}", file=out)
    inconclusive = report.inconclusive_kinds  # kink, domain edge or ill-conditioned
    numeric = report.numeric[0] if report.numeric is not None else None
    width = max(5, *(len(name) for name in program.variables))
    head = f"  #  {'input':<{width}}  {'analytic':>14}  {'numeric':>14}  {'|diff|':>9}  verdict"
    print(head, file=out)
    for j, name in enumerate(program.variables):
        a = report.analytic[0][j]
        n = numeric[j] if numeric is not None else math.nan
        if j in inconclusive:
            outcome = "inconclusive" if args.kinks != "fail" else "FAILED"
            verdict = f"{inconclusive[j]}: {outcome}"
            shown, diff = "—", ""
        else:
            ok = abs(a - n) <= args.atol + args.rtol * abs(n)
            verdict, shown, diff = ("ok" if ok else "MISMATCH"), f"{n:.8g}", f"{abs(a - n):.2g}"
        line = f"  {j:<2} {name:<{width}}  {a:>14.8g}  {shown:>14}  {diff:>9}  {verdict}"
        print(line, file=out)
    print(str(report), file=out)
    return EXIT_OK if report else EXIT_FAILURE


# ---------------------------------------------------------------------------------------------
# demo


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from micrograd_x.demo import DemoError, run_demo

    try:
        run_demo(
            Path(args.out),
            steps=args.steps,
            seed=args.seed,
            replay=args.replay,
            progress=not args.no_progress,
            out=out,
        )
    except DemoError as e:
        raise _FailedError(str(e)) from None
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# The parser


class _Parser(argparse.ArgumentParser):
    """Raise instead of exiting, so ``main`` returns the exit code."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.format_usage().rstrip(), prog=self.prog)


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    return value


_EXPRESSION_HELP = (
    "an arithmetic expression, e.g. 'tanh(w*x + b)' or 'x^2 * sin(y)': numbers, variables, "
    "+ - * / ** (or ^), parentheses and the functions listed below; quote it for the shell; "
    "if it starts with '-', give it a leading space (' -x^2') or put it last, after --"
)
_AT_HELP = "the point: NAME=NUMBER pairs separated by commas, e.g. x=1.5,y=-2 (repeatable)"


def _expression_command(
    sub: Any, name: str, summary: str, description: str
) -> argparse.ArgumentParser:
    """A subcommand of an expression at a point: ``EXPR`` and ``--at``, the functions listed."""
    command: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=description,
        epilog="functions: " + ", ".join(sorted(functions())),
    )
    command.add_argument("expression", metavar="EXPR", help=_EXPRESSION_HELP)
    command.add_argument("--at", action="append", metavar="x=1.5,y=-2", help=_AT_HELP)
    return command


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for documentation tools and tests).

    Returns:
        The ``micrograd-x`` parser with its ``demo``, ``draw`` and ``check`` subcommands.
    """
    parser = _Parser(
        prog=PROG,
        description="See and check how gradients flow: train a demo network, draw the chain "
        "rule of an expression, check its gradients.",
        epilog="exit codes: 0 success, 1 failure, 2 usage error",
    )
    from micrograd_x import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    demo = sub.add_parser(
        "demo",
        help="train an MLP on two moons and write a loss curve, a decision boundary and a "
        "gradient-flow diagram",
        description="Train MLP(2, [16, 16, 1]) on 100 two-moons points (hinge loss + 1e-4 L2, "
        "SGD with the learning rate decaying linearly from 1.0 to 0.1) with a progress bar; "
        "write loss.png, decision_boundary.png and gradient_flow.svg to the output folder and "
        "print the final accuracy.",
    )
    demo.add_argument("--out", default="out", metavar="DIR", help="output folder (default: out)")
    demo.add_argument(
        "--steps", type=_positive_int, default=100, help="training steps (default: 100)"
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the data and the model (0)")
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    demo.add_argument(
        "--replay",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="capture the loss graph once and replay it each step, or rebuild it each step "
        "(default: replay when the run has at least 3 steps)",
    )
    demo.set_defaults(run=_demo)

    draw = _expression_command(
        sub,
        "draw",
        "draw the chain of partial derivatives of an expression",
        "Parse EXPR (never evaluated as Python), evaluate it at the point, backpropagate, print "
        "the gradients and the chain rule for --wrt, and draw the graph with every edge "
        "labelled by its local partial derivative.",
    )
    draw.add_argument(
        "--wrt",
        metavar="NAME",
        help="the variable whose paths to the output are highlighted (default: the first one)",
    )
    draw.add_argument(
        "-o",
        "--output",
        default="graph.svg",
        metavar="FILE",
        help="where to write the diagram; the format comes from the suffix: .svg, .png, .pdf, "
        ".dot or .json (default: graph.svg)",
    )
    draw.set_defaults(run=_draw)

    check = _expression_command(
        sub,
        "check",
        "compare an expression's gradients with finite differences",
        "Parse EXPR (never evaluated as Python) and run gradcheck at the point: central "
        "differences against backpropagated gradients. Exit code 1 if they disagree.",
    )
    check.add_argument("--atol", type=_finite, default=1e-5, help="absolute tolerance (1e-5)")
    check.add_argument("--rtol", type=_finite, default=1e-3, help="relative tolerance (1e-3)")
    check.add_argument(
        "--kinks",
        choices=("inconclusive", "fail"),
        default="inconclusive",
        help="when finite differences cannot check an input (relu, abs, max, ... change branch "
        "within the step; f is undefined at x ± h; the step is too large for the curvature): "
        "report the input inconclusive (default) or fail",
    )
    check.set_defaults(run=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns:
        The exit code: 0 on success, 1 on failure, 2 on a usage error.
    """
    out, err = _printable(sys.stdout), _printable(sys.stderr)
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as stop:  # --help and --version print, then exit 0
            return stop.code if isinstance(stop.code, int) else EXIT_OK
        run: Callable[[argparse.Namespace, TextIO], int] = args.run
        return run(args, out)
    except UsageError as e:
        _report(err, f"{e.prog}: error: {e}", e.detail)
        return EXIT_USAGE
    except _FailedError as e:
        _report(err, f"{PROG}: {e}")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        _report(err, f"{PROG}: interrupted")
        return 130


_ASCII = str.maketrans(
    {"∂": "d", "—": "-", "–": "-", "·": "*", "×": "x", "→": "->", "←": "<-", "≤": "<=", "≥": ">="}
    | {"±": "+-", "…": "...", "Σ": "sum", "σ": "sigma", "²": "^2", "₁": "1", "₂": "2", "✓": "ok"}
)
"""ASCII spellings of the symbols the command line prints, for terminals that cannot show them."""


class _Transliterated(io.TextIOBase):
    """A text stream that spells symbols its target's encoding lacks in ASCII (or as ``?``)."""

    def __init__(self, stream: TextIO, encoding: str) -> None:
        super().__init__()
        self._stream = stream
        self._encoding = encoding

    def write(self, text: str) -> int:
        text = text.translate(_ASCII)
        safe = text.encode(self._encoding, errors="replace").decode(self._encoding)
        self._stream.write(safe)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


def _printable(stream: TextIO) -> TextIO:
    """``stream``, or a transliterating wrapper if its encoding cannot show ``∂`` (e.g. ASCII)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "∂σ→·—".encode(encoding)
    except UnicodeEncodeError:
        return cast(TextIO, _Transliterated(stream, encoding))
    except LookupError:  # an encoding Python does not know: be safe
        return cast(TextIO, _Transliterated(stream, "ascii"))
    return stream


def _report(stream: TextIO, message: str, detail: str = "") -> None:
    print(message, file=stream)
    if detail:
        print(detail, file=stream)
