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

# %%
explain(d, wrt=a)

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
# rule and writes `graph.svg`.

# %%
from micrograd_x.expr import parse

program = parse("log(x) * exp(x) + x^2")
leaves = program.leaves({"x": 1.5})
out = program.evaluate(leaves)
out.label = "out"
out.backward()
print(explain(out, wrt=leaves["x"]))
draw(out, wrt=leaves["x"])
