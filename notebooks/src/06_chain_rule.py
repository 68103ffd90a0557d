# %% [markdown]
# # 6 · The chain rule
#
# Backpropagation is the chain rule applied over a graph. If $z$ depends on $s$ only through
# $x$, then
#
# $$\frac{\partial z}{\partial s} = \frac{\partial z}{\partial x} \cdot
# \frac{\partial x}{\partial s}:$$
#
# walk back from the output, and multiply the local derivative of each step. micrograd_x stores
# those local derivatives on the edges of the graph, so the rule can be drawn and read off.

# %%
from micrograd_x import Value, draw, explain

s = Value(0.5, label="s")
x = s.sin()
x.label = "x"
z = x**2 + 1
z.label = "z"
z.backward()

print(f"∂z/∂x = 2x = {2 * x.data:.4f},  ∂x/∂s = cos(s) = {x.partials[0]:.4f}")
print(f"product = {2 * x.data * x.partials[0]:.4f},  s.grad = {s.grad:.4f}")
draw(z, wrt=s)

# %% [markdown]
# **The point of the figure:** ∂z/∂s is read off one path, as the product of the partials on its
# edges.
#
# The highlighted path is the chain s → x → … → z; the caption under the picture is the product of
# the partials on its edges, and the ✓ says it equals `s.grad` as computed by `backward()`.
#
# ## A value used twice
#
# When a value feeds the output along **two paths**, each path contributes its own product and the
# contributions **add up**. Here $a$ reaches $d = b \cdot c$ through $b = 2a$ and through
# $c = e^a$:
#
# $$\frac{\partial d}{\partial a}
# = \frac{\partial d}{\partial b}\frac{\partial b}{\partial a}
# + \frac{\partial d}{\partial c}\frac{\partial c}{\partial a}
# = c \cdot 2 + b \cdot e^a.$$

# %%
a = Value(0.7, label="a")
b = 2 * a
b.label = "b"
c = a.exp()
c.label = "c"
d = b * c
d.label = "d"
d.backward()
draw(d, wrt=a)

# %% [markdown]
# **The point of the figure:** `a` reaches `d` along two highlighted paths, and `a.grad` is the
# sum of the two products.

# %%
print(explain(d, wrt=a))

# %% [markdown]
# Forgetting one of the paths, or overwriting a gradient instead of adding to it, is the classic
# backpropagation bug. An independent check catches it: `gradcheck` compares the engine's
# gradients with central finite differences.

# %%
from micrograd_x.testing import gradcheck

report = gradcheck(lambda a: (2 * a) * a.exp(), [0.7])
print(report)

# %% [markdown]
# ## From text
#
# `micrograd_x.expr` parses an arithmetic expression (with a small parser of its own: nothing is
# passed to Python's `eval`) into the same graph, one labelled leaf per variable. The command line
# does the same: `micrograd-x draw "log(x) * exp(x)" --at x=1.5` prints the gradients and the chain
# rule and writes `graph.svg`. Here $x$ reaches the output along three paths; the table lists
# them and the drawing shows the graph they run through.

# %%
from micrograd_x.expr import parse

program = parse("log(x) * exp(x) + x^2")
leaves = program.leaves({"x": 1.5})
out = program.evaluate(leaves)
out.label = "out"
out.backward()
print(explain(out, wrt=leaves["x"]))
draw(out)

# %% [markdown]
# **The point of the figure:** the three rows of the table are the three routes from `x` to
# `out` in the graph, and `x.grad` = 7.805 is the sum of their products.
#
# ## Exercises
#
# ### 1 · Find the bug
#
# A new op is declared the way every op of micrograd_x is: a record with its forward function
# and a rule giving one local partial per input. Here is $\operatorname{hypot}(a, b) =
# \sqrt{a^2 + b^2}$, used in $out = \operatorname{hypot}(x, y) \cdot z$. One of its partials
# is wrong. Find which, using only `gradcheck` (which input is off?) and `explain` (which edge
# carries the wrong number?), before reading the rule.

# %%
import math

from micrograd_x import apply
from micrograd_x.ops import Domain, Op

HYPOT = Op(
    name="hypot",
    symbol="hypot",
    arity=2,
    forward=lambda a, b: math.hypot(a, b),
    partials=lambda out, a, b: (a / out, a / out),
    domain=Domain(text="(a, b) ≠ (0, 0)", box=((0.5, 5.0), (0.5, 5.0))),
    formula="√(a² + b²)",
)


def hypot(a, b):
    """The op applied to two Values (or numbers)."""
    return apply(HYPOT, a, b)


print(gradcheck(lambda x, y, z: hypot(x, y) * z, [3.0, 4.0, 2.0]))

# %%
x, y, z = Value(3.0, label="x"), Value(4.0, label="y"), Value(2.0, label="z")
r = hypot(x, y)
r.label = "r"
out = r * z
out.label = "out"
out.backward()
print(explain(out, wrt=y))
draw(out, wrt=y)

# %% [markdown]
# **The point of the figure:** the chain from `y` to `out` has two edges, and the drawing shows
# the number each one carries, so a wrong partial can be pointed at.
#
# Which edge is wrong, and what should it carry? Work it out, then unfold the answer below.

# %% jupyter={"source_hidden": true}
# ANSWER. gradcheck: the mismatch is for input 1, y (analytic 1.2, numeric 1.6); x and z pass.
# explain: the only path from y is out ← r ← y. ∂out/∂r = z = 2 is right, so ∂r/∂y = 0.6 is
# wrong. By hand, ∂r/∂y = y / r = 4 / 5 = 0.8; 0.6 is x / r, the partial with respect to x.
# The drawing hints at it too: both edges into r carry 0.6, though x ≠ y. The rule returns
# (a / out, a / out): a copy-paste slip. The fix is (a / out, b / out); the rest of the op stays.
from dataclasses import replace

HYPOT_FIXED = replace(HYPOT, partials=lambda out, a, b: (a / out, b / out))
print(gradcheck(lambda x, y, z: apply(HYPOT_FIXED, x, y) * z, [3.0, 4.0, 2.0]))

# %% [markdown]
# Note that `explain` still says ✓: it checks that the chain rule was applied correctly to the
# stored partials, not that the partials are right. Only an independent oracle, such as finite
# differences, catches a wrong local derivative.
#
# ### 2 · Fill in a derivative
#
# The softsign activation is $f(x) = x / (1 + |x|)$. Write its local partial
# $\partial f / \partial x$ in the rule below (it gets the output `out` and the input `x`; `abs`
# works on both numbers and Values), then run the next cell: `gradcheck` compares your rule with
# finite differences on both sides of 0. As written, the rule returns 0 and the check fails.


# %%
def softsign_partials(out, x):
    """∂ softsign / ∂x: replace the 0.0 below with your formula."""
    return (0.0,)


SOFTSIGN = Op(
    name="softsign",
    symbol="softsign",
    arity=1,
    forward=lambda x: x / (1 + abs(x)),
    partials=softsign_partials,
    formula="x / (1 + |x|)",
)

# %%
for point in (-2.0, 0.5):
    print(f"x = {point}:", gradcheck(lambda x: apply(SOFTSIGN, x), [point]))

# %% jupyter={"source_hidden": true}
# ANSWER. For x > 0, f = x / (1 + x) and the quotient rule gives 1 / (1 + x)²; for x < 0,
# f = x / (1 − x) gives 1 / (1 − x)². Both are 1 / (1 + |x|)². Like sigmoid's rule, it can
# reuse the output: 1 − |f| = 1 / (1 + |x|), so ∂f/∂x = (1 − |out|)².
from dataclasses import replace

SOFTSIGN_FIXED = replace(SOFTSIGN, partials=lambda out, x: ((1 - abs(out)) ** 2,))
for point in (-2.0, 0.5):
    print(f"x = {point}:", gradcheck(lambda x: apply(SOFTSIGN_FIXED, x), [point]))
