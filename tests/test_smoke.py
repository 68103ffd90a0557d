from __future__ import annotations

import math

from micrograd_x import Value, dot


def test_neuron_gradients_match_closed_form() -> None:
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(0.5)
    o = dot([w1, w2], [x1, x2], b).tanh()
    o.backward()
    n = -3.0 * 2.0 + 1.0 * 0.0 + 0.5
    dn = 1 - math.tanh(n) ** 2
    assert math.isclose(o.data, math.tanh(n))
    assert math.isclose(w1.grad, dn * 2.0)
    assert math.isclose(x1.grad, dn * -3.0)
    assert math.isclose(b.grad, dn)
