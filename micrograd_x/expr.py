"""A safe parser for arithmetic expressions such as ``tanh(w*x + b) ** 2``: text to a Value graph.

Imports only the standard library, :mod:`micrograd_x.ops` and :mod:`micrograd_x.engine`.

Why a hand-written parser rather than ``ast.parse`` with a whitelist: the text never reaches
Python's own parser or compiler, so there is no grammar we did not write (no attributes,
subscripts, strings, lambdas or walrus to forget in a whitelist), ``^`` can mean power without
clashing with Python's xor, every error carries the exact column of the offending character, and
nesting depth is bounded by us rather than by the interpreter's recursion limit. The grammar is
small (recursive descent over five precedence levels), so the parser stays short and auditable.

Grammar, loosest binding first::

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary)*
    unary   := ("-" | "+") unary | power
    power   := primary (("**" | "^") unary)?          right-associative; -x**2 is -(x**2)
    primary := NUMBER | NAME | NAME "(" args ")" | "(" expr ")"
    args    := expr ("," expr)* ("," NAME "=" signed-number)*

Functions are the engine's ops without operator syntax: every unary op of the registry (``exp``,
``log``, ``tanh``, ``relu``, ``leaky_relu(x, slope=0.2)``, ...), ``max(a, b)``, ``min(a, b)`` and
n-ary ``sum(a, b, ...)``. A number is a constant; a sub-expression of numbers only is folded to
one number (so ``x ** (1/2)`` has the number exponent 0.5); a name is a variable, a labelled leaf.
Every node an operator or a call makes is labelled with its source text (``w1*x1``), so diagrams
and chain-rule tables name it as the expression does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from micrograd_x import ops
from micrograd_x.engine import Value, apply, constant

__all__ = [
    "MAX_DEPTH",
    "MAX_LABEL",
    "Expression",
    "ExpressionError",
    "ParseError",
    "functions",
    "parse",
]

MAX_DEPTH = 100
"""Deepest nesting (parentheses, unary signs, powers, calls) the parser accepts."""

_OPERATOR_OPS = frozenset({"neg", "pow", "const"})
"""Unary ops written with operators (``-x``, ``x ** k``) or not applicable (constants)."""

MAX_LABEL = 32
"""Longest node label taken from the source text; longer text keeps both ends around a "…"."""

_BINARY_FUNCTIONS = ("max", "min")
_NARY_FUNCTIONS = ("sum",)


def functions() -> dict[str, ops.Op]:
    """The functions an expression may call, by name.

    Read from the op registry each time, so an op registered later is callable too.

    Returns:
        A mapping from function name to its op record: every unary op without operator syntax,
        plus ``max``, ``min`` and the n-ary ``sum``.
    """
    table: dict[str, ops.Op] = {}
    for op in ops.registry():
        unary = op.arity == 1 and op.name not in _OPERATOR_OPS
        if unary or op.name in _BINARY_FUNCTIONS or op.name in _NARY_FUNCTIONS:
            table[op.name] = op
    return table


class ExpressionError(ValueError):
    """An expression cannot be parsed or evaluated as asked.

    Attributes:
        text: The expression's text.
        position: 0-based index of the offending character in ``text`` (``len(text)`` for the
            end of the text), or ``None`` when no single place is to blame.
        reason: The message without the position.
    """

    def __init__(self, reason: str, text: str, position: int | None) -> None:
        where = "" if position is None else f" (column {position + 1})"
        super().__init__(f"{reason}{where}")
        self.reason = reason
        self.text = text
        self.position = position

    def caret(self) -> str:
        """Two lines: the expression and a caret under the offending column.

        Returns:
            The pointer text, or the expression alone when no position is known. Control
            characters in the expression are shown escaped so the caret stays aligned.
        """
        shown = _printable(self.text)
        if self.position is None:
            return shown
        column = len(_printable(self.text[: self.position]))
        return f"{shown}\n{' ' * column}^"


class ParseError(ExpressionError):
    """The text is not a well-formed expression (a syntax error, an unknown function, ...)."""


def _printable(text: str) -> str:
    # One column per printable character, a space for a tab, escapes for other control
    # characters, so the caret line stays aligned in a terminal.
    return "".join(c if c.isprintable() else " " if c == "\t" else repr(c)[1:-1] for c in text)


# ---------------------------------------------------------------------------------------------
# Tokens


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "num", "name", "op" or "end"
    text: str
    pos: int
    number: float = 0.0


_SINGLE = frozenset("+-*/^(),=")
_DIGITS = frozenset("0123456789")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | _DIGITS


def _tokens(text: str) -> Iterator[_Token]:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t":
            i += 1
        elif c in _DIGITS or (c == "." and i + 1 < n and text[i + 1] in _DIGITS):
            j = _scan_number(text, i)
            value = float(text[i:j])
            if value == float("inf"):
                raise ParseError(f"the number {text[i:j]!r} is too large for a float", text, i)
            yield _Token("num", text[i:j], i, value)
            i = j
        elif c in _NAME_START:
            j = i + 1
            while j < n and text[j] in _NAME_CHARS:
                j += 1
            yield _Token("name", text[i:j], i)
            i = j
        elif text.startswith("**", i):
            yield _Token("op", "**", i)
            i += 2
        elif c in _SINGLE:
            yield _Token("op", c, i)
            i += 1
        else:
            raise ParseError(f"unexpected character {c!r}", text, i)
    yield _Token("end", "", n)


def _scan_number(text: str, i: int) -> int:
    # digits [. digits] [e [+-] digits], or . digits [e ...]; ASCII digits only.
    n = len(text)
    while i < n and text[i] in _DIGITS:
        i += 1
    if i < n and text[i] == ".":
        i += 1
        while i < n and text[i] in _DIGITS:
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j] in _DIGITS:
            while j < n and text[j] in _DIGITS:
                j += 1
            i = j
        else:
            raise ParseError("a number's exponent needs digits, as in 1e-3", text, j)
    return i


# ---------------------------------------------------------------------------------------------
# The program: postfix instructions, evaluated with a stack (no recursion, any length).


@dataclass(frozen=True, slots=True)
class _Instr:
    kind: str  # "num", "var", "neg", "bin", "call"
    pos: int
    number: float = 0.0
    name: str = ""
    nargs: int = 0
    params: tuple[tuple[str, float], ...] = ()
    label: str = ""  # the source text of the sub-expression, for the node it makes


_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "^": "pow"}


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression: postfix instructions over named variables.

    Build one with :func:`parse`. Evaluating it builds a fresh graph each time.

    Attributes:
        text: The source text.
        variables: The variable names, in order of first appearance.
    """

    text: str
    variables: tuple[str, ...]
    _code: tuple[_Instr, ...]

    def leaves(self, values: Mapping[str, float]) -> dict[str, Value]:
        """Fresh labelled leaves for the variables.

        Args:
            values: A number for every variable of the expression (extra names are an error).

        Returns:
            A leaf ``Value(values[name], label=name)`` per variable, in :attr:`variables` order.

        Raises:
            ExpressionError: If a variable has no value or a name is not a variable of the
                expression.
        """
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise ExpressionError(f"no value given for {_names(missing)}", self.text, None)
        extra = [k for k in values if k not in self.variables]
        if extra:
            uses = ", ".join(self.variables) or "no variables"
            raise ExpressionError(
                f"{_names(extra)} not in the expression (it uses {uses})", self.text, None
            )
        return {name: Value(values[name], label=name) for name in self.variables}

    def evaluate(self, env: Mapping[str, Value | float]) -> Value:
        """Build the expression's graph.

        Every node an operator or a call makes is labelled with its source text, one line of
        at most :data:`MAX_LABEL` characters (``w1*x1``, ``tanh(w*x + b)``).

        Args:
            env: A ``Value`` (used as is, so its gradient can be read after backward) or a
                number (wrapped in a leaf labelled with the variable's name) per variable; extra
                names are ignored.

        Returns:
            The output node. An expression of numbers only gives a constant node.

        Raises:
            ExpressionError: If a variable has no value.
            micrograd_x.ops.DomainError: If an op is applied outside its domain.
            ZeroDivisionError: On a division by zero.
            OverflowError: If a result is not finite.
        """
        env_values: dict[str, Value] = {}
        for name in self.variables:
            if name not in env:
                raise ExpressionError(f"no value given for variable {name!r}", self.text, None)
            v = env[name]
            env_values[name] = v if isinstance(v, Value) else Value(v, label=name)
        stack: list[Value | float] = []
        for ins in self._code:
            kind = ins.kind
            if kind == "num":
                stack.append(ins.number)
            elif kind == "var":
                stack.append(env_values[ins.name])
            elif kind == "neg":
                a = stack.pop()
                stack.append(_labelled(-a, ins.label))
            elif kind == "bin":
                b = stack.pop()
                a = stack.pop()
                stack.append(_labelled(_binary(ins.name, a, b), ins.label))
            else:
                args = stack[len(stack) - ins.nargs :]
                del stack[len(stack) - ins.nargs :]
                stack.append(_labelled(_call(ins.name, args, dict(ins.params)), ins.label))
        (out,) = stack
        return out if isinstance(out, Value) else constant(out)

    def __call__(self, *args: Value | float) -> Value:
        """Build the graph with positional inputs, one per variable in :attr:`variables` order.

        This is the ``f(*inputs)`` form gradient checkers call.

        Raises:
            TypeError: If the number of arguments differs from the number of variables.
        """
        if len(args) != len(self.variables):
            raise TypeError(
                f"expression {self.text!r} takes {len(self.variables)} input(s) "
                f"({', '.join(self.variables)}), got {len(args)}"
            )
        return self.evaluate(dict(zip(self.variables, args)))


def _labelled(out: Value | float, label: str) -> Value | float:
    # A node this instruction made gets the source text; a leaf passed through (``+x``) keeps its
    # own name, and a folded number has no node.
    if isinstance(out, Value) and out.label is None and not out.is_leaf:
        out.label = label
    return out


def _source_label(text: str) -> str:
    """The node label for a sub-expression's source text: one line, at most MAX_LABEL long.

    Long text keeps its start and its end (``a*b + c*d + … + y*z``): the nodes of a long sum
    share their start, so the end tells them apart.
    """
    label = " ".join(_printable(text).split())
    if len(label) <= MAX_LABEL:
        return label
    head = (MAX_LABEL - 1) // 2
    tail = MAX_LABEL - 1 - head
    return f"{label[:head].rstrip()}…{label[-tail:].lstrip()}"


def _names(names: Sequence[str]) -> str:
    quoted = ", ".join(repr(n) for n in names)
    return f"variable{'s' if len(names) > 1 else ''} {quoted}"


def _binary(name: str, a: Value | float, b: Value | float) -> Value | float:
    if name == "pow" and not isinstance(b, Value):
        # A number exponent is the op's parameter k (x ** 2), not a constant input node.
        base = a if isinstance(a, Value) else constant(a)
        out = base**b
    else:
        out = apply("powv" if name == "pow" else name, a, b)
    folded = not isinstance(a, Value) and not isinstance(b, Value)
    return out.data if folded else out


def _call(name: str, args: Sequence[Value | float], params: dict[str, float]) -> Value | float:
    out = apply(name, *args, **params)
    return out if any(isinstance(a, Value) for a in args) else out.data


# ---------------------------------------------------------------------------------------------
# The parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.stream = _tokens(text)
        self.tokens: list[_Token] = []
        self.i = 0
        self.code: list[_Instr] = []
        self.variables: dict[str, None] = {}
        self.functions = functions()
        self.depth = 0

    # -- utilities ------------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> _Token:
        # Tokens are read lazily, so the first error in reading order is the one reported
        # (``__import__('os')`` fails on the unknown function, not on the quote after it).
        while len(self.tokens) <= self.i + ahead:
            if self.tokens and self.tokens[-1].kind == "end":
                return self.tokens[-1]
            self.tokens.append(next(self.stream))
        return self.tokens[self.i + ahead]

    @property
    def tok(self) -> _Token:
        return self.peek()

    def error(self, reason: str, pos: int | None = None) -> ParseError:
        return ParseError(reason, self.text, self.tok.pos if pos is None else pos)

    def is_op(self, *symbols: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in symbols

    def expect(self, symbol: str, context: str) -> None:
        if not self.is_op(symbol):
            raise self.error(f"expected {symbol!r} {context}, found {_describe(self.tok)}")
        self.i += 1

    def end(self) -> int:
        """The index just past the last token read (the end of the sub-expression just parsed)."""
        last = self.tokens[self.i - 1]
        return last.pos + len(last.text)

    def label(self, start: int) -> str:
        return _source_label(self.text[start : self.end()])

    def take(self) -> _Token:
        """The current token; move past it."""
        t = self.tok
        self.i += 1
        return t

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the expression nests more than {MAX_DEPTH} levels deep", pos)

    def nested(self, pos: int, parse: Callable[[], None]) -> None:
        """Run ``parse`` one nesting level deeper (the level opened at column ``pos``)."""
        self.enter(pos)
        parse()
        self.depth -= 1

    # -- grammar --------------------------------------------------------------------------------

    def parse(self) -> Expression:
        if self.tok.kind == "end":
            raise self.error("the expression is empty")
        self.expr()
        if self.tok.kind != "end":
            raise self.error(self.unexpected_after_operand())
        return Expression(self.text, tuple(self.variables), tuple(self.code))

    def unexpected_after_operand(self) -> str:
        t = self.tok
        if t.kind in ("num", "name") or self.is_op("("):
            return f"expected an operator before {_describe(t)} (write 2*x, not 2x)"
        if self.is_op(")"):
            return "unmatched ')'"
        return f"unexpected {_describe(t)}"

    def expr(self) -> None:
        self.left_associative(("+", "-"), self.term)

    def term(self) -> None:
        self.left_associative(("*", "/"), self.unary)

    def left_associative(self, symbols: tuple[str, ...], operand: Callable[[], None]) -> None:
        """``operand (symbol operand)*``, each operator applied to everything on its left."""
        start = self.tok.pos
        operand()
        while self.is_op(*symbols):
            t = self.take()
            operand()
            self.code.append(_Instr("bin", t.pos, name=_BINARY[t.text], label=self.label(start)))

    def unary(self) -> None:
        if self.is_op("-", "+"):
            t = self.take()
            self.nested(t.pos, self.unary)
            if t.text == "-":
                self.code.append(_Instr("neg", t.pos, label=self.label(t.pos)))
        else:
            self.power()

    def power(self) -> None:
        start = self.tok.pos
        self.primary()
        if self.is_op("**", "^"):
            t = self.take()
            self.nested(t.pos, self.unary)
            self.code.append(_Instr("bin", t.pos, name="pow", label=self.label(start)))

    def primary(self) -> None:
        t = self.tok
        if t.kind == "num":
            self.i += 1
            self.code.append(_Instr("num", t.pos, number=t.number))
        elif t.kind == "name":
            self.i += 1
            if self.is_op("("):
                self.call(t)
            elif t.text in self.functions:
                raise self.error(f"{t.text!r} is a function: call it as {t.text}(...)", t.pos)
            else:
                self.variables.setdefault(t.text)
                self.code.append(_Instr("var", t.pos, name=t.text))
        elif self.is_op("("):
            self.i += 1
            self.nested(t.pos, self.expr)
            if not self.is_op(")"):
                raise self.error(f"expected ')' to close the '(' at column {t.pos + 1}")
            self.i += 1
        elif t.kind == "end":
            raise self.error("the expression ends where a number, name or '(' was expected")
        else:
            raise self.error(f"expected a number, name or '(', found {_describe(t)}")

    def call(self, name: _Token) -> None:
        op = self.functions.get(name.text)
        if op is None:
            known = ", ".join(sorted(self.functions))
            raise self.error(f"unknown function {name.text!r}; known functions: {known}", name.pos)
        open_pos = self.tok.pos
        self.i += 1
        self.enter(open_pos)
        args: list[str] = []  # the positional arguments' source text
        params: dict[str, float] = {}
        while not self.is_op(")") and self.tok.kind != "end":
            if args or params:
                self.expect(",", f"between the arguments of {name.text}()")
            if self.tok.kind == "name" and self.peek(1).text == "=":
                self.keyword(op, params)
            elif params:
                raise self.error(f"{name.text}(): a positional argument after a keyword")
            elif self.tok.kind == "end":
                break
            else:
                start = self.tok.pos
                self.expr()
                args.append(self.text[start : self.end()].strip())
        if not self.is_op(")"):
            raise self.error(f"expected ')' to close {name.text}( at column {open_pos + 1}")
        self.i += 1
        self.depth -= 1
        self.check_arity(op, args, name)
        self.code.append(
            _Instr(
                "call",
                name.pos,
                name=op.name,
                nargs=len(args),
                params=tuple(params.items()),
                label=self.label(name.pos),
            )
        )

    def keyword(self, op: ops.Op, params: dict[str, float]) -> None:
        key = self.tok
        if key.text not in op.params:
            takes = ", ".join(op.params) if op.params else "no parameters"
            raise self.error(f"{op.name}() has no parameter {key.text!r} (it takes {takes})")
        if key.text in params:
            raise self.error(f"{op.name}(): parameter {key.text!r} given twice")
        self.i += 2
        sign = 1.0
        if self.is_op("-", "+"):
            sign = -1.0 if self.tok.text == "-" else 1.0
            self.i += 1
        if self.tok.kind != "num":
            raise self.error(f"{op.name}(): parameter {key.text!r} must be a number")
        params[key.text] = sign * self.tok.number
        self.i += 1

    def check_arity(self, op: ops.Op, args: list[str], name: _Token) -> None:
        nargs = len(args)
        if op.arity is None:
            if nargs == 0:
                raise self.error(f"{op.name}() needs at least one argument", name.pos)
        elif nargs != op.arity:
            takes = f"{op.name}() takes {op.arity} argument{'s' if op.arity > 1 else ''}"
            extra = args[op.arity :]
            if extra and len(extra) <= len(op.params):
                # A parameter given by position, as in Python's leaky_relu(x, 0.1): name it.
                named = ", ".join(op.params)
                fix = ", ".join(
                    args[: op.arity]
                    + [f"{p}={v if _is_number(v) else 'NUMBER'}" for p, v in zip(op.params, extra)]
                )
                raise self.error(
                    f"{takes}; {_plural('its parameter', len(op.params))} {named} "
                    f"{'is a number' if len(op.params) == 1 else 'are numbers'} given by name: "
                    f"write {op.name}({fix})",
                    name.pos,
                )
            raise self.error(f"{takes}, got {nargs}", name.pos)


def _plural(word: str, n: int) -> str:
    return word if n == 1 else f"{word}s"


def _is_number(text: str) -> bool:
    """Whether ``text`` is a signed number, as a keyword parameter takes it."""
    try:
        kinds = [t.kind for t in _tokens(text)]
    except ParseError:
        return False
    if kinds[0] == "op" and text.lstrip()[0] in "+-":
        kinds = kinds[1:]
    return kinds == ["num", "end"]


def _describe(t: _Token) -> str:
    if t.kind == "end":
        return "the end of the expression"
    if t.kind == "num":
        return f"the number {t.text}"
    if t.kind == "name":
        return f"the name {t.text!r}"
    return repr(t.text)


def parse(text: str) -> Expression:
    """Parse an arithmetic expression; nothing in it is ever executed as Python.

    Args:
        text: E.g. ``"tanh(w1*x1 + w2*x2 + b)"`` or ``"x^2 + max(x, 0.5*y)"``.

    Returns:
        The parsed :class:`Expression`; call :meth:`Expression.evaluate` to build the graph.

    Raises:
        ParseError: If the text is not a well-formed expression; the error carries the
            column (``position``) and :meth:`ExpressionError.caret` draws a pointer to it.
        TypeError: If ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse: expected the expression as a str, got {type(text).__name__}")
    return _Parser(text).parse()
