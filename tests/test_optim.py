from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_x import optim
from micrograd_x.engine import Parameter, Value, backward

# -- reference updates: PyTorch's algorithms written out on numpy arrays ---------------------------


def ref_sgd(
    p: np.ndarray,
    grads: list[np.ndarray],
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> np.ndarray:
    p = p.copy()
    buf = None
    for g in grads:
        d_p = g + weight_decay * p
        if momentum != 0:
            buf = d_p.copy() if buf is None else momentum * buf + (1 - dampening) * d_p
            d_p = d_p + momentum * buf if nesterov else buf
        p = p - lr * d_p
    return p


def ref_adam(
    p: np.ndarray,
    grads: list[np.ndarray],
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled: bool = False,
) -> np.ndarray:
    # The textbook form: m̂ / (√v̂ + eps), algebraically equal to PyTorch's arrangement.
    p = p.copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    b1, b2 = betas
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def _run(opt_cls: type[optim.Optimizer], p0: np.ndarray, grads: list[np.ndarray], **kw: object):  # type: ignore[no-untyped-def]
    ps = [Parameter(float(v)) for v in p0]
    opt = opt_cls(ps, **kw)  # type: ignore[arg-type]
    for g in grads:
        for p, gi in zip(ps, g):
            p.grad = float(gi)
        opt.step()
    return np.array([p.data for p in ps])


RNG = np.random.default_rng(0)
P0 = RNG.normal(size=6)
GRADS = [RNG.normal(size=6) for _ in range(12)]


# -- hand-worked steps --------------------------------------------------------------------------


def test_sgd_one_step_by_hand() -> None:
    p = Parameter(1.0)
    p.grad = 0.5
    optim.SGD([p], lr=0.1).step()
    assert p.data == 1.0 - 0.1 * 0.5


def test_sgd_momentum_by_hand() -> None:
    p = Parameter(1.0)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = 1.0
    opt.step()  # buf = 1 -> p = 1 - 0.1 = 0.9
    assert p.data == pytest.approx(0.9)
    p.grad = 1.0
    opt.step()  # buf = 0.9*1 + 1 = 1.9 -> p = 0.9 - 0.19 = 0.71
    assert p.data == pytest.approx(0.71)
    q = Parameter(1.0)
    nes = optim.SGD([q], lr=0.1, momentum=0.9, nesterov=True)
    q.grad = 1.0
    nes.step()  # buf = 1, step = 1 + 0.9 = 1.9 -> 0.81
    assert q.data == pytest.approx(0.81)
    q.grad = 1.0
    nes.step()  # buf = 1.9, step = 1 + 1.71 = 2.71 -> 0.81 - 0.271 = 0.539
    assert q.data == pytest.approx(0.539)


def test_sgd_weight_decay_and_dampening_by_hand() -> None:
    p = Parameter(2.0)
    opt = optim.SGD([p], lr=0.5, momentum=0.5, dampening=0.5, weight_decay=0.1)
    p.grad = 1.0
    opt.step()  # g = 1 + 0.2 = 1.2, buf = 1.2 (no dampening on the first step) -> 2 - 0.6 = 1.4
    assert p.data == pytest.approx(1.4)
    p.grad = 1.0
    opt.step()  # g = 1 + 0.14 = 1.14, buf = 0.6 + 0.5*1.14 = 1.17 -> 1.4 - 0.585 = 0.815
    assert p.data == pytest.approx(0.815)


def test_adam_first_step_moves_by_lr_in_the_gradient_sign() -> None:
    # Step 1: m̂ = g, v̂ = g², so the update is lr·g/(|g| + eps).
    for g in (3.0, -0.002, 1e-3):
        p = Parameter(1.0)
        p.grad = g
        optim.Adam([p], lr=0.01).step()
        assert p.data == pytest.approx(1.0 - 0.01 * g / (abs(g) + 1e-8), rel=1e-14)


def test_adamw_decays_before_the_adam_step_by_hand() -> None:
    p = Parameter(2.0)
    p.grad = 0.5
    optim.AdamW([p], lr=0.1, weight_decay=0.5).step()
    assert p.data == pytest.approx(2.0 * (1 - 0.05) - 0.1 * 0.5 / (0.5 + 1e-8), rel=1e-14)
    q = Parameter(2.0)
    q.grad = 0.5
    optim.Adam([q], lr=0.1, weight_decay=0.5).step()  # L2: g = 0.5 + 1 = 1.5
    assert q.data == pytest.approx(2.0 - 0.1 * 1.5 / (1.5 + 1e-8), rel=1e-14)


# -- against PyTorch's formulas -----------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01},
        {"lr": 0.2, "weight_decay": 0.1},
    ],
)
def test_sgd_matches_pytorch_formula(kw: dict[str, float]) -> None:
    got = _run(optim.SGD, P0, GRADS, **kw)
    assert got == pytest.approx(ref_sgd(P0, GRADS, **kw), rel=1e-12, abs=1e-14)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kw",
    [
        {"lr": 0.01},
        {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-6},
        {"lr": 0.01, "weight_decay": 0.1},
    ],
)
def test_adam_matches_pytorch_formula(kw: dict[str, object]) -> None:
    got = _run(optim.Adam, P0, GRADS, **kw)
    assert got == pytest.approx(ref_adam(P0, GRADS, **kw), rel=1e-10, abs=1e-13)  # type: ignore[arg-type]


def test_adamw_matches_pytorch_formula() -> None:
    got = _run(optim.AdamW, P0, GRADS, lr=0.01, weight_decay=0.1)
    want = ref_adam(P0, GRADS, lr=0.01, weight_decay=0.1, decoupled=True)
    assert got == pytest.approx(want, rel=1e-10, abs=1e-13)
    assert optim.AdamW([Parameter(0.0)]).param_groups[0].options["weight_decay"] == 0.01


@given(
    g=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=8),
    lr=st.floats(1e-4, 1.0),
    mu=st.floats(0.0, 0.99),
)
def test_sgd_matches_reference_on_random_gradients(g: list[float], lr: float, mu: float) -> None:
    grads = [np.array(g), np.array(g[::-1])]
    p0 = np.linspace(-1, 1, len(g))
    got = _run(optim.SGD, p0, grads, lr=lr, momentum=mu)
    assert got == pytest.approx(ref_sgd(p0, grads, lr, mu), rel=1e-12, abs=1e-12)


# -- groups, changing rates, gradients as Values -------------------------------------------------


def test_param_groups_and_changing_the_rate_every_step() -> None:
    a, b = Parameter(1.0), Parameter(1.0)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g.lr for g in opt.param_groups] == [0.1, 0.5]
    a.grad = b.grad = 1.0
    opt.step()
    assert (a.data, b.data) == (pytest.approx(0.9), pytest.approx(0.5))
    opt.param_groups[1].lr = 0.25  # one group's rate, changed between steps
    opt.step()
    assert (a.data, b.data) == (pytest.approx(0.8), pytest.approx(0.25))
    opt.lr = 0.0  # every group
    opt.step()
    assert (a.data, b.data) == (pytest.approx(0.8), pytest.approx(0.25))
    assert repr(opt) == (
        "SGD(1 params, lr=0, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False; "
        "1 params, lr=0, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)"
    )


def test_group_options_override_defaults() -> None:
    a, b = Parameter(1.0), Parameter(1.0)
    opt = optim.SGD([{"params": [a], "momentum": 0.9}, {"params": [b]}], lr=0.1)
    assert opt.param_groups[0].options["momentum"] == 0.9
    assert opt.param_groups[1].options["momentum"] == 0.0


def test_gradient_that_is_a_value_is_read_as_a_float() -> None:
    x = Parameter(3.0)
    backward(x * x * x, create_graph=True)
    assert isinstance(x.grad, Value)
    optim.SGD([x], lr=0.01).step()
    assert x.data == pytest.approx(3.0 - 0.01 * 27.0)


def test_zero_grad_and_reset() -> None:
    p = Parameter(1.0)
    opt = optim.Adam([p])
    p.grad = 2.0
    opt.step()
    assert opt.state and opt.steps == 1
    opt.zero_grad()
    assert p.grad == 0.0
    opt.reset()
    assert not opt.state and opt.steps == 0


def test_a_non_finite_update_raises_and_changes_nothing() -> None:
    a, b = Parameter(1.0), Parameter(1e308)
    opt = optim.SGD([a, b], lr=1.0)
    a.grad, b.grad = 1.0, -1e308
    with pytest.raises(OverflowError, match=r"SGD.step: the update of .* is not finite"):
        opt.step()
    assert (a.data, b.data) == (1.0, 1e308)


def test_a_failed_step_leaves_the_optimizer_state_untouched() -> None:
    # Momentum 0.9, lr 1: the first step sets buffers to the grads and moves a from 1 to 0.
    a, b = Parameter(1.0), Parameter(1.0)
    opt = optim.SGD([a, b], lr=1.0, momentum=0.9)
    a.grad, b.grad = 1.0, 1.0
    opt.step()
    before = ({k: dict(v) for k, v in opt.state.items()}, opt.steps)
    a.grad, b.grad = 1.0, 1e308  # b's buffer 0.9 + 1e308 is finite; its update is not
    opt.lr = 10.0
    with pytest.raises(OverflowError, match=r"SGD\.step: the update of"):
        opt.step()
    assert ({k: dict(v) for k, v in opt.state.items()}, opt.steps) == before
    assert (a.data, b.data) == (0.0, 0.0)
    # The optimizer is still usable: b = 0 - 1·(0.9·1 + 1) = -1.9 with the same buffers.
    opt.lr = 1.0
    a.grad, b.grad = 1.0, 1.0
    opt.step()
    assert (a.data, b.data) == (-1.9, -1.9) and opt.steps == 2


@pytest.mark.parametrize(
    ("build", "kind", "msg"),
    [
        (lambda: optim.SGD([]), ValueError, "SGD: got an empty parameter list"),
        (lambda: optim.SGD([Parameter(1.0)], lr=-1), ValueError, "SGD: lr must be >= 0.0"),
        (lambda: optim.SGD([Parameter(1.0)], lr=math.nan), ValueError, "lr must be a finite"),
        (lambda: optim.SGD([Parameter(1.0)], momentum=-0.1), ValueError, "momentum must be >="),
        (
            lambda: optim.SGD([Parameter(1.0)], nesterov=True),
            ValueError,
            "SGD: Nesterov momentum needs momentum > 0 and dampening 0",
        ),
        (lambda: optim.SGD([1.0]), TypeError, "SGD: parameters must be Values, got float"),
        (lambda: optim.Adam([Parameter(1.0)], betas=(0.9, 1.0)), ValueError, r"betas must be in"),
        (lambda: optim.Adam([Parameter(1.0)], betas=(0.9,)), ValueError, r"betas must be a pair"),
        (lambda: optim.Adam([Parameter(1.0)], eps=0.0), ValueError, "Adam: eps must be > 0.0"),
        (
            lambda: optim.SGD([{"params": [Parameter(1.0)], "betas": 1}]),
            ValueError,
            r"SGD: unknown option\(s\) \['betas'\]",
        ),
    ],
)
def test_bad_optimizer_arguments(build: object, kind: type[Exception], msg: str) -> None:
    with pytest.raises(kind, match=msg):
        build()  # type: ignore[operator]


def test_duplicate_parameters_are_refused() -> None:
    p = Parameter(1.0)
    with pytest.raises(ValueError, match="appears more than once"):
        optim.SGD([p, p])


# -- schedules ----------------------------------------------------------------------------------


def test_linear_is_micrograds_demo_schedule() -> None:
    s = optim.Linear(1.0, total_steps=100, end_factor=0.1)
    for k in range(101):
        assert s(k) == pytest.approx(1.0 - 0.9 * k / 100, rel=1e-14)
    assert s(150) == pytest.approx(0.1)
    warm = optim.Linear(0.5, total_steps=4, start_factor=0.25, end_factor=1.0)
    assert warm.rates(6) == pytest.approx([0.125, 0.21875, 0.3125, 0.40625, 0.5, 0.5])


def test_constant_step_and_exponential_by_hand() -> None:
    assert optim.Constant(0.3).rates(3) == [0.3, 0.3, 0.3]
    step = optim.StepDecay(1.0, step_size=3, gamma=0.5)
    assert step.rates(8) == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    exp = optim.Exponential(2.0, gamma=0.9)
    assert exp.rates(4) == pytest.approx([2.0, 1.8, 1.62, 1.458])


def test_cosine_annealing_closed_form() -> None:
    s = optim.CosineAnnealing(1.0, total_steps=10, min_lr=0.1)
    assert s(0) == 1.0
    assert s(5) == pytest.approx(0.55)
    assert s(10) == pytest.approx(0.1)
    assert s(25) == pytest.approx(0.1)
    for t in range(11):
        want = 0.1 + 0.9 * (1 + math.cos(math.pi * t / 10)) / 2
        assert s(t) == pytest.approx(want, rel=1e-14)


def test_warmup_then_decay() -> None:
    s = optim.WarmupDecay(1.0, warmup_steps=4, total_steps=12, start_factor=0.2, min_lr=0.0)
    assert s.rates(5) == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert s(8) == pytest.approx(0.5)  # halfway down the cosine
    assert s(12) == pytest.approx(0.0, abs=1e-15) and s(40) == pytest.approx(0.0, abs=1e-15)
    rates = s.rates(13)
    assert max(rates) == rates[4]
    assert all(a >= b for a, b in itertools.pairwise(rates[4:]))  # higher first, then reducing
    lin = optim.WarmupDecay(0.1, 2, 6, start_factor=0.5, min_lr=0.02, decay="linear")
    assert lin.rates(7) == pytest.approx([0.05, 0.075, 0.1, 0.08, 0.06, 0.04, 0.02])
    none = optim.WarmupDecay(1.0, 0, 2)
    assert none.rates(3) == pytest.approx([1.0, 0.5, 0.0], abs=1e-15)


def test_schedule_apply_sets_every_group() -> None:
    a, b = Parameter(0.0), Parameter(0.0)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 9.0}], lr=1.0)
    assert optim.Exponential(1.0, 0.5).apply(opt, 2) == 0.25
    assert [g.lr for g in opt.param_groups] == [0.25, 0.25]
    assert repr(optim.Exponential(1.0, 0.5)) == "Exponential(base_lr=1.0, gamma=0.5)"


@pytest.mark.parametrize(
    ("build", "msg"),
    [
        (lambda: optim.Constant(0.0), "Constant: base_lr must be > 0.0"),
        (lambda: optim.StepDecay(1.0, 0), "StepDecay: step_size must be an integer >= 1"),
        (lambda: optim.Exponential(1.0, 0.0), "Exponential: gamma must be > 0.0"),
        (lambda: optim.Linear(1.0, 10, start_factor=0), "Linear: start_factor must be > 0.0"),
        (lambda: optim.CosineAnnealing(1.0, 1.5), "total_steps must be an integer >= 1, got 1.5"),
        (lambda: optim.WarmupDecay(1.0, 5, 5), r"total_steps \(5\) must exceed warmup_steps"),
        (lambda: optim.WarmupDecay(1.0, 1, 5, start_factor=2), "start_factor must be <= 1"),
        (lambda: optim.WarmupDecay(1.0, 1, 5, decay="step"), "decay must be 'cosine' or 'linear'"),
        (lambda: optim.Constant(1.0)(-1), "Constant: step must be an integer >= 0, got -1"),
    ],
)
def test_bad_schedule_arguments(build: object, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        build()  # type: ignore[operator]


# -- learning-rate range test -------------------------------------------------------------------


def test_lr_range_test_on_a_quadratic() -> None:
    # L(w) = Σ (w - 3)²: fine for small rates, diverges once lr > 1.
    ws = [Parameter(0.0), Parameter(1.0)]
    opt = optim.SGD(ws, lr=0.1, momentum=0.5)

    def loss() -> Value:
        return (ws[0] - 3.0) ** 2 + (ws[1] - 3.0) ** 2

    res = optim.lr_range_test(ws, opt, loss, start_lr=1e-4, end_lr=100.0, steps=60, smoothing=0.5)
    assert res.diverged
    assert len(res.lrs) == len(res.losses) == len(res.smoothed) < 60
    ratios = [b / a for a, b in zip(res.lrs, res.lrs[1:])]
    assert ratios == pytest.approx([1e6 ** (1 / 59)] * len(ratios))
    assert res.losses[0] == 9.0 + 4.0
    assert 1e-4 <= res.suggested_lr <= res.best_lr < 2.0
    # The model and the optimizer are left as found.
    assert [w.data for w in ws] == [0.0, 1.0]
    assert all(w.grad == 0.0 for w in ws)
    assert not opt.state


def test_lr_range_test_linear_mode_and_errors() -> None:
    w = Parameter(1.0)
    opt = optim.SGD([w])
    res = optim.lr_range_test([w], opt, lambda: w * w, 0.01, 0.5, steps=5, mode="linear")
    assert res.lrs == pytest.approx([0.01, 0.1325, 0.255, 0.3775, 0.5])
    assert not res.diverged
    with pytest.raises(ValueError, match=r"end_lr \(0.001\) must exceed start_lr"):
        optim.lr_range_test([w], opt, lambda: w * w, 0.01, 0.001)
    with pytest.raises(ValueError, match="mode must be 'exponential' or 'linear'"):
        optim.lr_range_test([w], opt, lambda: w * w, mode="log")
    with pytest.raises(ValueError, match="steps must be an integer >= 2"):
        optim.lr_range_test([w], opt, lambda: w * w, steps=1)
    with pytest.raises(ValueError, match="the loss failed at the very first rate"):
        optim.lr_range_test([w], opt, lambda: (w - 1.0).log())


def _array_case(kind: str, params: list[Parameter]) -> optim.Optimizer:
    groups = [{"params": params[:3], "lr": 0.05}, {"params": params[3:], "lr": 0.2}]
    if kind == "sgd":
        return optim.SGD(groups, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)
    if kind == "nesterov":
        return optim.SGD(groups, lr=0.1, momentum=0.8, nesterov=True)
    if kind == "adam":
        return optim.Adam(groups, lr=0.1, weight_decay=0.02)
    return optim.AdamW(groups, lr=0.1, weight_decay=0.02)


@pytest.mark.parametrize("kind", ["sgd", "nesterov", "adam", "adamw"])
def test_step_array_updates_as_step_does(kind: str) -> None:
    start = [0.5, -1.0, 2.0, 0.25, -0.75]
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(6, len(start)))
    a = [Parameter(v) for v in start]
    b = [Parameter(v) for v in start]
    oa, ob = _array_case(kind, a), _array_case(kind, b)
    # The arrays in a permuted order (each group stays one block): any order gives the same.
    order = ob.array_order([b[2], b[0], b[1], b[4], b[3]])
    pos = [order.index(p) for p in b]
    x = np.array([p.data for p in order])
    for k, g in enumerate(grads):
        for p, gi in zip(a, g):
            p.grad = float(gi)
        oa.step()
        garr = np.empty(len(b))
        garr[pos] = g
        if k == 3:  # a plain step in between: the state moves from arrays and back
            for p, gi in zip(b, g):
                p.data, p.grad = float(x[pos[b.index(p)]]), float(gi)
            ob.step()
            x = np.array([p.data for p in order])
        else:
            ob.step_array(x, garr)
    assert x[pos].tolist() == pytest.approx([p.data for p in a], rel=1e-14, abs=1e-15)
    ob.sync_state()
    assert oa.steps == ob.steps == len(grads)
    for pa, pb in zip(a, b):
        sa, sb = oa.state[id(pa)], ob.state[id(pb)]
        assert sa.keys() == sb.keys()
        for key in sa:
            assert sb[key] == pytest.approx(sa[key], rel=1e-14, abs=1e-15)


def test_step_array_changes_nothing_when_an_update_is_not_finite() -> None:
    ps = [Parameter(1.0), Parameter(2.0)]
    opt = optim.SGD(ps, lr=1e308, momentum=0.5)
    x = np.array([1.0, 2.0])
    opt.step_array(x, np.array([0.0, 0.0]))
    before = x.copy()
    with pytest.raises(OverflowError, match=r"SGD.step: the update of .* is not finite"):
        opt.step_array(x, np.array([1e10, 0.0]))
    assert x.tolist() == before.tolist() and opt.steps == 1
