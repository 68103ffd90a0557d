"""Tests for micrograd_x.expr: the safe expression parser.

Values are compared with a float reference written here (a tiny tree interpreter over ``math``);
gradients with closed forms; malformed and hostile text must give ``ParseError`` with a position.
"""

from __future__ import annotations

import builtins
import contextlib
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_x import ops
from micrograd_x.engine import Value
from micrograd_x.expr import MAX_DEPTH, ExpressionError, ParseError, functions, parse

# ---------------------------------------------------------------------------------------------
# Examples: precedence, associativity, numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("1 - 2 - 3", -4.0),
        ("8 / 4 / 2", 1.0),
        ("2 ** 3 ** 2", 512.0),
        ("2 ^ 3 ^ 2", 512.0),
        ("-2 ** 2", -4.0),
        ("(-2) ** 2", 4.0),
        ("2 ** -1", 0.5),
        ("2 * -3", -6.0),
        ("1 - -1", 2.0),
        ("--3", 3.0),
        ("+3", 3.0),
        ("-+-3", 3.0),
        (".5e1", 5.0),
        ("1E+2", 100.0),
        ("2.", 2.0),
        ("1e-3", 0.001),
        ("4 ** (1/2)", 2.0),
        ("max(1, 2) + min(1, 2)", 3.0),
        ("sum(1, 2, 3, 4)", 10.0),
        ("leaky_relu(-2, slope=0.5)", -1.0),
        ("elu(0, alpha=2)", 0.0),
        ("relu(-1) + abs(-2)", 2.0),
        ("\t1\t+ 1 ", 2.0),
    ],
)
def test_numbers_and_precedence(text: str, expected: float) -> None:
    out = parse(text).evaluate({})
    assert out.data == expected
    assert out.is_leaf and out.is_constant  # numbers only: folded to one constant node


def test_variables_are_labelled_leaves_shared_by_name() -> None:
    p = parse("x * y + x")
    assert p.variables == ("x", "y")
    leaves = p.leaves({"x": 3.0, "y": -2.0})
    out = p.evaluate(leaves)
    assert out.data == -3.0
    x, y = leaves["x"], leaves["y"]
    assert (x.label, y.label) == ("x", "y")
    assert x.is_leaf and not x.is_constant
    mul = out.parents[0]
    assert mul.parents == (x, y)
    assert out.parents[1] is x  # one leaf per name, used on two paths


def test_number_exponent_is_a_parameter_and_value_exponent_an_input() -> None:
    x, y = Value(3.0, label="x"), Value(2.0, label="y")
    square = parse("x ** 2").evaluate({"x": x})
    assert square.op is ops.POW and square.params == {"k": 2} and square.parents == (x,)
    root = parse("x ^ (1/2)").evaluate({"x": x})  # folded exponent
    assert root.op is ops.POW and root.params == {"k": 0.5}
    power = parse("x ** y").evaluate({"x": x, "y": y})
    assert power.op is ops.POWV and power.parents == (x, y)


def test_numbers_next_to_values_become_constant_nodes() -> None:
    x = Value(1.5, label="x")
    out = parse("2 * x").evaluate({"x": x})
    assert out.op is ops.MUL
    two, same = out.parents
    assert two.is_constant and two.data == 2.0 and same is x
    folded = parse("(2 * 3) * x").evaluate({"x": x})
    assert folded.parents[0].data == 6.0 and folded.parents[0].is_leaf


def test_every_function_maps_to_its_op() -> None:
    x, y = Value(0.3, label="x"), Value(0.7, label="y")
    for name, op in functions().items():
        args = "x" if op.arity == 1 else "x, y"
        out = parse(f"{name}({args})").evaluate({"x": x, "y": y})
        assert out.op is op
    assert {"exp", "log", "tanh", "relu", "sigmoid", "max", "min", "sum"} <= set(functions())
    assert not {"add", "mul", "neg", "pow", "powv", "const", "dot"} & set(functions())


def test_gradients_match_closed_forms() -> None:
    p = parse("tanh(w1*x1 + w2*x2 + b)")
    env = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
    leaves = p.leaves(env)
    out = p.evaluate(leaves)
    out.backward()
    n = -3.0 * 2.0 + 0.0 + env["b"]
    dn = 1.0 - math.tanh(n) ** 2
    assert math.isclose(leaves["w1"].grad, dn * 2.0, rel_tol=1e-12)
    assert math.isclose(leaves["x1"].grad, dn * -3.0, rel_tol=1e-12)
    assert math.isclose(leaves["b"].grad, dn, rel_tol=1e-12)

    q = parse("x^3 * sin(y) + y / x + log(x*x + 1) - max(x, y)")
    leaves = q.leaves({"x": 1.5, "y": -0.5})
    q.evaluate(leaves).backward()
    x, y = 1.5, -0.5
    dx = 3 * x**2 * math.sin(y) - y / x**2 + 2 * x / (x * x + 1) - 1.0
    dy = x**3 * math.cos(y) + 1 / x
    assert math.isclose(leaves["x"].grad, dx, rel_tol=1e-12)
    assert math.isclose(leaves["y"].grad, dy, rel_tol=1e-12)


def test_program_is_callable_in_variable_order() -> None:
    p = parse("a - b")
    assert p(5.0, 2.0).data == 3.0
    a = Value(1.0)
    out = p(a, 4.0)
    assert out.parents[0] is a
    with pytest.raises(TypeError, match=r"takes 2 input\(s\) \(a, b\), got 1"):
        p(1.0)


def test_leaves_reject_missing_and_unknown_names() -> None:
    p = parse("x + y")
    with pytest.raises(ExpressionError, match="no value given for variable 'y'"):
        p.leaves({"x": 1.0})
    with pytest.raises(
        ExpressionError, match=r"variable 'z' not in the expression \(it uses x, y\)"
    ):
        p.leaves({"x": 1.0, "y": 2.0, "z": 3.0})
    with pytest.raises(ExpressionError, match="no value given for variable 'x'"):
        p.evaluate({})
    with pytest.raises(ValueError, match="not a finite number"):
        p.leaves({"x": math.nan, "y": 1.0})


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="expected the expression as a str, got bytes"):
        parse(b"x + 1")  # type: ignore[arg-type]


def test_runtime_errors_keep_the_engines_types_and_messages() -> None:
    with pytest.raises(ops.DomainError, match=r"log: input must be > 0, got -1\.0"):
        parse("log(x)").evaluate({"x": -1.0})
    with pytest.raises(ZeroDivisionError, match="div: division by zero"):
        parse("1 / x").evaluate({"x": 0.0})
    with pytest.raises(ZeroDivisionError, match="div: division by zero"):
        parse("1 / (2 - 2)").evaluate({})
    with pytest.raises(OverflowError, match="exp: result overflows"):
        parse("exp(x)").evaluate({"x": 1000.0})
    with pytest.raises(ops.NonDifferentiableError, match="sqrt"):
        parse("sqrt(x)").evaluate({"x": 0.0})


# ---------------------------------------------------------------------------------------------
# Errors: message and position


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("", 1, "the expression is empty"),
        ("   ", 4, "the expression is empty"),
        ("x +", 4, "ends where a number, name or '(' was expected"),
        ("2x", 2, "expected an operator before the name 'x' (write 2*x, not 2x)"),
        ("x y", 3, "expected an operator before the name 'y'"),
        ("2 (y)", 3, "expected an operator before '('"),
        ("(x + 1", 7, "expected ')' to close the '(' at column 1"),
        ("x + 1)", 6, "unmatched ')'"),
        ("x * * y", 5, "expected a number, name or '(', found '*'"),
        ("x.y", 2, "unexpected character '.'"),
        ("x # y", 3, "unexpected character '#'"),
        ("x + 'a'", 5, 'unexpected character "\'"'),
        ("1e", 3, "exponent needs digits"),
        ("1e+x", 4, "exponent needs digits"),
        ("1e999", 1, "the number '1e999' is too large for a float"),
        ("exp", 1, "'exp' is a function: call it as exp(...)"),
        ("exp + 1", 1, "'exp' is a function"),
        ("foo(x)", 1, "unknown function 'foo'; known functions: abs, cos"),
        ("exp(x, y)", 1, "exp() takes 1 argument, got 2"),
        ("max(x)", 1, "max() takes 2 arguments, got 1"),
        ("sum()", 1, "sum() needs at least one argument"),
        ("exp(x", 6, "expected ')' to close exp( at column 4"),
        ("exp(x y)", 7, "expected ',' between the arguments of exp(), found the name 'y'"),
        ("relu(x, slope=2)", 9, "relu() has no parameter 'slope' (it takes no parameters)"),
        ("leaky_relu(x, alpha=2)", 15, "leaky_relu() has no parameter 'alpha' (it takes slope)"),
        ("leaky_relu(x, slope=y)", 21, "parameter 'slope' must be a number"),
        ("leaky_relu(x, slope=1, slope=2)", 24, "parameter 'slope' given twice"),
        ("leaky_relu(slope=1, x)", 21, "a positional argument after a keyword"),
        ("x = 2", 3, "unexpected '='"),
        ("x, y", 2, "unexpected ','"),
        ("x\x00", 2, "unexpected character '\\x00'"),
        ("x × y", 3, "unexpected character '×'"),
    ],
)
def test_parse_errors_name_the_problem_and_its_column(
    text: str, column: int, fragment: str
) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    err = info.value
    assert fragment in str(err)
    assert str(err).endswith(f"(column {column})")
    assert err.position == column - 1
    assert err.text == text
    assert "\n" not in str(err)


def test_caret_points_at_the_column() -> None:
    with pytest.raises(ParseError) as info:
        parse("tanh(x) + * 2")
    assert info.value.caret() == "tanh(x) + * 2\n          ^"
    with pytest.raises(ParseError) as info:
        parse("a\tb")  # a tab is whitespace: the error is at b
    assert info.value.caret() == "a b\n  ^"
    with pytest.raises(ParseError) as info:
        parse("\x01 + x")  # shown escaped, caret still under it
    assert info.value.caret() == "\\x01 + x\n^"
    with pytest.raises(ParseError) as info:
        parse("x\x1by +")
    assert info.value.caret() == "x\\x1by +\n ^"


# ---------------------------------------------------------------------------------------------
# Nothing executes


HOSTILE = [
    "__import__('os')",
    "os.system('true')",
    "x.__class__",
    "exec('1')",
    "eval('1')",
    "compile('1', 'f', 'eval')",
    "open('/etc/passwd')",
    "globals()",
    "getattr(x, 'data')",
    "lambda: 1",
    "[x for x in y]",
    "x[0]",
    "{}",
    '"abc"',
    "x if y else z",
    "x; y",
    "(x := 1)",
    "1 @ 2",
    "x and y",
    "not x",
    "x < y",
    "x % 2",
    "x // 2",
    "~x",
    "x\ny",
    "print(1)",
    "Value(1)",
    "data(x)",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_rejected(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.position is not None
    assert 0 <= info.value.position <= len(text)


def test_names_are_only_labels_never_looked_up() -> None:
    p = parse("__import__ + os + sys")
    assert p.variables == ("__import__", "os", "sys")
    out = p.evaluate({"__import__": 1.0, "os": 2.0, "sys": 3.0})
    assert out.data == 6.0


def test_parsing_and_evaluating_never_call_the_python_compiler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the expression parser called eval/exec/compile")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    p = parse("tanh(w*x + b) ** 2 + max(x, 0.5) - sum(1, x, w) / (1 + x^2)")
    p.evaluate({"w": 0.5, "x": -1.0, "b": 0.25}).backward()
    for text in HOSTILE:
        with pytest.raises(ParseError):
            parse(text)


# ---------------------------------------------------------------------------------------------
# Depth and length limits


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "(" * n + "x" + ")" * n,
        lambda n: "exp(" * n + "x" + ")" * n,
        lambda n: "-" * n + "x",
        lambda n: "x" + "**x" * n,
        lambda n: "-(" * (n // 2) + "x" + ")" * (n // 2),
    ],
)
def test_nesting_up_to_the_limit_parses_and_beyond_it_is_a_parse_error(
    make: Callable[[int], str],
) -> None:
    parse(make(MAX_DEPTH))
    with pytest.raises(ParseError, match=f"nests more than {MAX_DEPTH} levels deep"):
        parse(make(MAX_DEPTH + 2))


def test_long_flat_expressions_need_no_recursion() -> None:
    n = 20_000
    p = parse(" + ".join(["x"] * n))
    x = Value(0.5)
    out = p.evaluate({"x": x})
    out.backward()
    assert out.data == 0.5 * n
    assert x.grad == n


# ---------------------------------------------------------------------------------------------
# Hypothesis: random well-formed expressions against a float reference written here.
#
# A tree is a tuple: ("num", v), ("var", name), ("neg", a), (op, a, b) for add/sub/mul/div,
# ("pow", a, k) with a small integer k, ("powv", a, b) with a positive base, or
# ("call", name, args, params). Domains are guarded by construction: a divisor is b*b + c, a
# logarithm's argument u*u + c, a Value exponent's base u*u + c and its exponent tanh(v).

NAMES = ("x", "y", "w_1", "b")
ENV = {"x": 0.75, "y": -1.25, "w_1": 2.0, "b": -0.5}


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


REFERENCE_UNARY: dict[str, Callable[..., float]] = {
    "exp": lambda v: math.exp(math.tanh(v)),  # text: exp(tanh(...)) keeps it bounded
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda v: max(v, 0.0),
    "abs": abs,
    "sin": math.sin,
    "cos": math.cos,
    "erf": math.erf,
    "softplus": lambda v: math.log1p(math.exp(-abs(v))) + max(v, 0.0),
    "silu": lambda v: v * _sigmoid(v),
    "gelu": lambda v: v * 0.5 * (1.0 + math.erf(v / math.sqrt(2.0))),
}

Tree = tuple[Any, ...]

leaves = st.one_of(
    st.sampled_from(NAMES).map(lambda n: ("var", n)),
    st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 0.125, 1e-3, 2.5e2]).map(lambda v: ("num", v)),
)


def _extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    c = children
    pair = st.tuples(c, c)
    return st.one_of(
        c.map(lambda a: ("neg", a)),
        st.tuples(st.sampled_from(["add", "sub", "mul"]), c, c),
        pair.map(lambda ab: ("div", ab[0], ("add", ("mul", ab[1], ab[1]), ("num", 1.0)))),
        st.tuples(c, st.integers(0, 3)).map(
            lambda ak: ("pow", ("call", "tanh", (ak[0],), ()), ak[1])
        ),
        st.tuples(st.sampled_from(["var", "num"]), st.integers(0, 3)).map(
            lambda t: ("pow", ("var", "x") if t[0] == "var" else ("num", 1.5), t[1])
        ),
        pair.map(
            lambda ab: (
                "powv",
                ("add", ("mul", ab[0], ab[0]), ("num", 0.5)),
                ("call", "tanh", (ab[1],), ()),
            )
        ),
        c.map(lambda a: ("call", "log", (("add", ("mul", a, a), ("num", 0.25)),), ())),
        c.map(lambda a: ("call", "sqrt", (("add", ("mul", a, a), ("num", 1.0)),), ())),
        st.tuples(st.sampled_from(sorted(REFERENCE_UNARY)), c).map(
            lambda fa: ("call", fa[0], (fa[1],), ())
        ),
        st.tuples(st.sampled_from(["max", "min"]), c, c).map(
            lambda t: ("call", t[0], (t[1], t[2]), ())
        ),
        st.lists(c, min_size=1, max_size=4).map(lambda xs: ("call", "sum", tuple(xs), ())),
        st.tuples(c, st.sampled_from([0.01, 0.2, -0.5])).map(
            lambda t: ("call", "leaky_relu", (t[0],), (("slope", t[1]),))
        ),
        st.tuples(c, st.sampled_from([1.0, 0.5])).map(
            lambda t: ("call", "elu", (t[0],), (("alpha", t[1]),))
        ),
    )


trees = st.recursive(leaves, _extend, max_leaves=12)


def reference(tree: Tree, scale: list[float]) -> float:
    """Evaluate a tree with plain floats; record the largest magnitude seen in ``scale``."""
    kind = tree[0]
    if kind == "num":
        out = float(tree[1])
    elif kind == "var":
        out = ENV[tree[1]]
    elif kind == "neg":
        out = -reference(tree[1], scale)
    elif kind in ("add", "sub", "mul", "div", "powv"):
        a, b = reference(tree[1], scale), reference(tree[2], scale)
        out = {
            "add": lambda: a + b,
            "sub": lambda: a - b,
            "mul": lambda: a * b,
            "div": lambda: a / b,
            "powv": lambda: a**b,
        }[kind]()
    elif kind == "pow":
        out = reference(tree[1], scale) ** tree[2]
    else:
        name, args, params = tree[1], [reference(a, scale) for a in tree[2]], dict(tree[3])
        if name == "log":
            out = math.log(args[0])
        elif name == "sqrt":
            out = math.sqrt(args[0])
        elif name == "max":
            out = max(args)
        elif name == "min":
            out = min(args)
        elif name == "sum":
            out = math.fsum(args)
        elif name == "leaky_relu":
            out = args[0] if args[0] > 0 else params["slope"] * args[0]
        elif name == "elu":
            out = args[0] if args[0] > 0 else params["alpha"] * math.expm1(args[0])
        else:
            out = REFERENCE_UNARY[name](args[0])
    scale[0] = max(scale[0], abs(out))
    return out


PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4, "powv": 4}
SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


@st.composite
def rendered(draw: st.DrawFn, tree: Tree) -> str:
    """Text for a tree with the fewest parentheses the grammar needs, plus random extras."""

    def prec(t: Tree) -> int:
        return PRECEDENCE.get(t[0], 5)

    def sp() -> str:
        return draw(st.sampled_from(["", "", " ", "  ", "\t"]))

    def wrap(t: Tree, needed: bool) -> str:
        text = go(t)
        if needed or draw(st.integers(0, 9)) == 0:
            return f"({sp()}{text}{sp()})"
        return text

    def number(v: float) -> str:
        return draw(st.sampled_from([repr(v), f"{v:e}", f"{v:.17g}"]))

    def go(t: Tree) -> str:
        kind = t[0]
        if kind == "num":
            return number(t[1])
        if kind == "var":
            return str(t[1])
        if kind == "neg":
            return f"-{sp()}{wrap(t[1], prec(t[1]) < 3)}"
        if kind in SYMBOLS:
            level = PRECEDENCE[kind]
            left = wrap(t[1], prec(t[1]) < level)
            right = wrap(t[2], prec(t[2]) <= level)
            return f"{left}{sp()}{SYMBOLS[kind]}{sp()}{right}"
        if kind in ("pow", "powv"):
            base = wrap(t[1], prec(t[1]) <= 4)
            exponent = number(float(t[2])) if kind == "pow" else wrap(t[2], prec(t[2]) < 3)
            op = draw(st.sampled_from(["**", "^"]))
            return f"{base}{sp()}{op}{sp()}{exponent}"
        name, args, params = t[1], t[2], t[3]
        parts = [go(a) for a in args] + [f"{k}{sp()}={sp()}{number(v)}" for k, v in params]
        if name == "exp":  # see REFERENCE_UNARY: exp of a tanh keeps values bounded
            parts = [f"tanh({parts[0]})"]
        return f"{name}{sp()}({sp()}{(',' + sp()).join(parts)}{sp()})"

    return go(tree)


@given(data=st.data(), tree=trees)
def test_random_expressions_evaluate_like_the_float_reference(
    data: st.DataObject, tree: Tree
) -> None:
    text = data.draw(rendered(tree), label="text")
    scale = [1.0]
    expected = reference(tree, scale)
    program = parse(text)
    out = program.evaluate(ENV)
    assert math.isfinite(out.data)
    assert math.isclose(out.data, expected, rel_tol=1e-9, abs_tol=1e-12 * scale[0]), text
    assert set(program.variables) <= set(NAMES)


# ---------------------------------------------------------------------------------------------
# Hypothesis: malformed input gives ParseError with a position, never another exception

ALPHABET = "xyab_019.eE+-*/^(),= \t" + "'\"[]{}:;!@#$%&|<>?`~\\\n\x00é×"
OK_AT_RUNTIME = (ops.DomainError, ZeroDivisionError, OverflowError)


def _parse_or_parse_error(text: str) -> None:
    try:
        program = parse(text)
    except ParseError as err:
        assert err.position is not None
        assert 0 <= err.position <= len(text)
        assert err.text == text
        assert str(err).endswith(f"(column {err.position + 1})")
        assert err.caret().count("\n") == 1
        return
    with contextlib.suppress(*OK_AT_RUNTIME):
        program.evaluate(dict.fromkeys(program.variables, 0.5))


@given(st.text(alphabet=ALPHABET, max_size=40))
def test_arbitrary_text_parses_or_raises_parse_error(text: str) -> None:
    _parse_or_parse_error(text)


@given(st.text(max_size=30))
def test_arbitrary_unicode_parses_or_raises_parse_error(text: str) -> None:
    _parse_or_parse_error(text)


@given(data=st.data(), tree=trees)
def test_mutated_expressions_parse_or_raise_parse_error(data: st.DataObject, tree: Tree) -> None:
    text = data.draw(rendered(tree), label="text")
    i = data.draw(st.integers(0, len(text)), label="at")
    action = data.draw(st.sampled_from(["delete", "insert", "replace"]), label="action")
    c = data.draw(st.sampled_from(ALPHABET), label="char")
    if action == "delete":
        text = text[:i] + text[i + 1 :]
    elif action == "insert":
        text = text[:i] + c + text[i:]
    else:
        text = text[:i] + c + text[i + 1 :]
    _parse_or_parse_error(text)
