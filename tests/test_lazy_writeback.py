"""A replayed fit writes its parameters back when a callback first reads or writes one.

Eager training is the oracle throughout: it keeps every ``Value`` current, so whatever a
callback sees or changes there is what it must see or change in a replayed run.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from micrograd_x import data, optim, staleparams, train
from micrograd_x.engine import Parameter, Value
from micrograd_x.nn import MLP, Layer, Module, Neuron
from micrograd_x.replayrun import Structure
from micrograd_x.staleparams import StaleSet
from micrograd_x.train import StepRecord, Trainer

X, _Y = data.make_moons(20, seed=2)
YS = data.to_signed(_Y)


@pytest.fixture
def sets(monkeypatch: pytest.MonkeyPatch) -> list[StaleSet]:
    """Every StaleSet made during the test (to count its class swaps)."""
    made: list[StaleSet] = []
    init = StaleSet.__init__

    def record(self: StaleSet, *args: Any) -> None:
        init(self, *args)
        made.append(self)

    monkeypatch.setattr(StaleSet, "__init__", record)
    return made


def _fit(
    replay: bool,
    cb: Callable[[MLP, StepRecord], Any],
    steps: int = 6,
    adam: bool = False,
) -> tuple[MLP, train.History]:
    model = MLP(2, [5, 1], seed=3)
    ps = model.parameters()
    o = optim.Adam(ps, lr=0.02) if adam else optim.SGD(ps, lr=0.05, momentum=0.9)
    hist = train.fit(
        model,
        X,
        YS,
        optimizer=o,
        steps=steps,
        callbacks=[lambda rec, tr: cb(model, rec)],
        replay=replay,
    )
    return model, hist


def _own_classes(model: Module) -> bool:
    return all(type(p) is Parameter for p in model.parameters()) and staleparams.active() == 0


def _numbers(model: Module) -> list[tuple[float, float]]:
    return [(p.data, float(p.grad)) for p in model.parameters()]  # type: ignore[arg-type]


@pytest.mark.parametrize("adam", [False, True])
def test_an_untouched_run_stays_stale_and_ends_current(sets: list[StaleSet], adam: bool) -> None:
    eager, h_e = _fit(False, lambda m, rec: None, steps=30, adam=adam)
    assert not sets
    replayed, h_r = _fit(True, lambda m, rec: None, steps=30, adam=adam)
    assert h_r.mode == "replay" and not h_r.notes
    assert _own_classes(replayed)
    # (Adam divides by the root of its second moment, which magnifies rounding differences.)
    tol = 1e-8 if adam else 1e-12
    assert np.allclose(_numbers(replayed), _numbers(eager), rtol=tol, atol=1e-15)
    assert h_r.loss == pytest.approx(h_e.loss, rel=tol)
    # O(1) per step: one class swap to stale before the first callback, one back at the end.
    (s,) = sets
    assert (s.marks, s.syncs) == (1, 1)


def test_each_read_is_counted_once(sets: list[StaleSet]) -> None:
    def cb(m: MLP, rec: StepRecord) -> None:
        if rec.step in (3, 7):
            m.layers[0].neurons[0].w[0].data  # noqa: B018 - the read is the point

    model, _ = _fit(True, cb, steps=10)
    (s,) = sets
    # Stale at step 0, read (synced) at 3, written back at once at 4 (just read), stale again at
    # 5, read at 7, written at 8, stale at 9, synced at the end.
    assert (s.marks, s.syncs) == (3, 3)
    assert _own_classes(model)


def test_a_callback_reading_at_every_step_is_not_made_stale_every_step(
    sets: list[StaleSet],
) -> None:
    seen: list[list[float]] = []
    runs = []
    for replay in (False, True):
        model, hist = _fit(
            replay, lambda m, rec: seen.append([p.data for p in m.parameters()]), 100
        )
        runs.append((model, hist))
    (s,) = sets
    # Lazy at steps 0, 2, 5, 10, 19, 36, 69 (eager for 1, 2, 4, ... 32 steps after each read).
    assert (s.marks, s.syncs) == (7, 7)
    (m_e, h_e), (m_r, h_r) = runs
    assert h_r.mode == "replay" and h_r.loss == pytest.approx(h_e.loss, rel=1e-12)
    assert _own_classes(m_r)
    assert np.allclose(seen[100:], seen[:100], rtol=1e-12, atol=1e-15)
    assert np.allclose(_numbers(m_r), _numbers(m_e), rtol=1e-12, atol=1e-15)


def _w(m: MLP) -> Parameter:
    return m.layers[0].neurons[1].w[0]


READERS: dict[str, Callable[[MLP], float]] = {
    "w * 3.0": lambda m: (_w(m) * 3.0).data,
    "x * w": lambda m: (Value(2.0) * _w(m)).data,
    "w.data": lambda m: _w(m).data,
    "w.grad": lambda m: float(_w(m).grad),  # type: ignore[arg-type]
    "repr": lambda m: float(re.findall(r"data=([-0-9.e+]+)", repr(_w(m)))[0]),
    "dict": lambda m: {p: i for i, p in enumerate(m.parameters())}[_w(m)] + _w(m).item(),
    "isinstance": lambda m: float(isinstance(_w(m), Parameter)) + _w(m).data,
    "__class__": lambda m: float(_w(m).__class__ is Parameter) + _w(m).data,
    "w > 0": lambda m: float(_w(m) > 0.0) + (_w(m).data if _w(m) < 1e9 else 0.0),
    "bias grad": lambda m: float(m.layers[1].neurons[0].b.grad),  # type: ignore[union-attr,arg-type]
    "copy": lambda m: copy.deepcopy(_w(m)).data,
}


@pytest.mark.parametrize("how", list(READERS))
def test_a_callback_reading_a_parameter_sees_it_current(how: str) -> None:
    read = READERS[how]
    runs = []
    for replay in (False, True):
        seen: list[float] = []
        model, hist = _fit(replay, lambda m, rec: seen.append(read(m)))  # noqa: B023
        assert _own_classes(model)
        runs.append((model, hist, seen))
    (m_e, _, seen_e), (m_r, h_r, seen_r) = runs
    assert h_r.mode == "replay" and not h_r.notes
    assert len(seen_r) == 6
    assert np.allclose(seen_r, seen_e, rtol=1e-12 if how != "repr" else 1e-6, atol=1e-15)
    assert np.allclose(_numbers(m_r), _numbers(m_e), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("attr", ["data", "_data"])
def test_a_write_without_a_read_is_honoured(attr: str) -> None:
    def cb(m: MLP, rec: StepRecord) -> None:
        if rec.step == 2:
            setattr(_w(m), attr, 0.25)

    untouched, _ = _fit(True, lambda m, rec: None)
    runs = [_fit(replay, cb)[0] for replay in (False, True)]
    m_e, m_r = runs
    assert _own_classes(m_r)
    assert np.allclose(_numbers(m_r), _numbers(m_e), rtol=1e-12, atol=1e-15)
    assert not np.allclose(_numbers(m_r), _numbers(untouched), rtol=1e-6)  # the write mattered


def test_an_error_in_a_callback_leaves_nothing_stale(sets: list[StaleSet]) -> None:
    def cb(m: MLP, rec: StepRecord) -> None:
        if rec.step == 3:
            raise RuntimeError("stop here")

    models = []
    for replay in (False, True):
        model = MLP(2, [5, 1], seed=3)

        def stop(rec: StepRecord, tr: Trainer) -> None:
            cb(tr.model, rec)  # type: ignore[arg-type]

        with pytest.raises(RuntimeError, match="stop here"):
            train.fit(model, X, YS, lr=0.05, steps=6, replay=replay, callbacks=[stop])
        models.append(model)
    m_e, m_r = models
    (s,) = sets
    assert (s.marks, s.syncs) == (1, 1)  # it was stale when the callback raised
    assert _own_classes(m_r)
    assert np.allclose(_numbers(m_r), _numbers(m_e), rtol=1e-12, atol=1e-15)


def _replace_layer(m: MLP) -> None:
    m.layers[1] = Layer(5, 1, activation=None, seed=9, name="layer2")


def _replace_weight(m: MLP) -> None:
    m.layers[0].neurons[2].w[1] = Parameter(0.5)


def _replace_bias(m: MLP) -> None:
    m.layers[1].neurons[0].b = Parameter(-0.1)


def _replace_neuron(m: MLP) -> None:
    m.layers[0].neurons[4] = Neuron(2, seed=4)


CHANGES = [_replace_layer, _replace_weight, _replace_bias, _replace_neuron]


@pytest.mark.parametrize("change", CHANGES)
def test_a_structural_change_inside_a_callback_is_honoured(change: Callable[[MLP], None]) -> None:
    # The callback reads no parameter (they are stale when it swaps a piece of the model).
    def cb(m: MLP, rec: StepRecord) -> None:
        if rec.step == 2:
            change(m)

    runs = []
    for replay in (False, True):
        model = MLP(2, [5, 1], seed=3)
        tr = Trainer(model, loss="hinge", lr=0.05, replay=replay)
        hist = tr.fit(X, YS, steps=6, callbacks=[lambda r, t: cb(t.model, r)])  # type: ignore[arg-type]
        runs.append((model, hist))
    (m_e, h_e), (m_r, h_r) = runs
    assert len(h_r.notes) == 1 and "captured again" in h_r.notes[0]
    assert [r.loss for r in h_r.records] == pytest.approx([r.loss for r in h_e.records], rel=1e-12)
    assert _own_classes(m_r)
    assert np.allclose(_numbers(m_r), _numbers(m_e), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("change", CHANGES)
def test_structure_sees_every_change(change: Callable[[MLP], None]) -> None:
    tr = Trainer(MLP(2, [5, 1], seed=3))
    shape = Structure(tr)
    assert shape.fast and shape.same(tr)
    assert isinstance(tr.model, MLP)
    change(tr.model)
    assert not shape.same(tr)


def test_structure_of_other_models_and_of_the_trainer() -> None:
    class MyNeuron(Neuron):
        pass

    tr = Trainer(MyNeuron(2, seed=1))
    shape = Structure(tr)
    assert not shape.fast and shape.same(tr)
    tr.model.w[0] = Parameter(1.0)  # type: ignore[attr-defined]
    assert not shape.same(tr)
    tr2 = Trainer(MLP(2, [3, 1], seed=0))
    shape2 = Structure(tr2)
    tr2.optimizer = optim.SGD(tr2.params, lr=0.1)
    assert not shape2.same(tr2)


class _Slotted(Parameter):
    __slots__ = ("extra",)


class _WithDict(Value):
    pass


def test_a_stale_set_of_any_value_class() -> None:
    ps: list[Value] = [Value(1.0), Parameter(2.0), _WithDict(3.0)]
    q = _Slotted(4.0)
    q.extra = "kept"
    ps.append(q)
    arrays = [10.0, 20.0, 30.0, 40.0]

    class Owner:
        def write(self) -> None:
            for p, v in zip(ps, arrays):
                p.data = v

    owner = Owner()
    s = StaleSet(ps, owner.write)
    s.mark()
    s.mark()
    assert s.marks == 1 and staleparams.active() == 1
    assert [type(p).__name__ for p in ps] == ["Value", "Parameter", "_WithDict", "_Slotted"]
    assert [p.__class__ for p in ps] == [Value, Parameter, _WithDict, _Slotted]
    assert isinstance(ps[3], Parameter) and type(ps[3]) is not _Slotted
    assert q.extra == "kept" and ps[0].label is None  # other names pass through
    ps[2].note = "in its dict"  # type: ignore[attr-defined]
    assert s.stale  # nothing watched was touched
    out = ps[3] + ps[0]  # the engine's own slot reads
    assert out.data == 50.0 and not s.stale and s.syncs == 1
    assert [type(p) for p in ps] == [Value, Parameter, _WithDict, _Slotted]
    assert ps[2].note == "in its dict"  # type: ignore[attr-defined]
    assert staleparams.active() == 0


def test_layer_stats_and_a_reading_callback(sets: list[StaleSet]) -> None:
    # layer_stats writes the parameters back (before the update) at every step.
    runs = []
    for replay in (False, True):
        seen: list[float] = []
        model = MLP(2, [5, 1], seed=3)
        hist = train.fit(
            model,
            X,
            YS,
            lr=0.05,
            steps=5,
            replay=replay,
            layer_stats=True,
            callbacks=[lambda rec, tr: seen.append(_w(model).data)],  # noqa: B023
        )
        runs.append((model, hist, seen))
    (s,) = sets
    assert (s.marks, s.syncs) == (2, 2)  # lazy at steps 0 and 2, written back at once else
    (m_e, h_e, seen_e), (m_r, h_r, seen_r) = runs
    assert h_r.mode == "replay" and _own_classes(m_r)
    assert np.allclose(seen_r, seen_e, rtol=1e-12, atol=1e-15)
    assert np.allclose(_numbers(m_r), _numbers(m_e), rtol=1e-12, atol=1e-15)
    assert h_r.loss == pytest.approx(h_e.loss, rel=1e-12)


def test_a_fit_inside_a_callback_on_the_same_model() -> None:
    # The inner run reads the (stale) parameters of the outer one, trains them, and hands them
    # back current; the outer run carries on from them. Eager training is the oracle.
    runs = []
    for replay in (False, True):
        model = MLP(2, [5, 1], seed=3)

        def inner(rec: StepRecord, tr: Trainer) -> None:
            if rec.step == 2:
                train.fit(tr.model, X, YS, lr=0.01, steps=3, replay=replay)  # noqa: B023

        hist = train.fit(model, X, YS, lr=0.05, steps=5, replay=replay, callbacks=[inner])
        runs.append((model, hist))
    (m_e, h_e), (m_r, h_r) = runs
    assert _own_classes(m_r)
    assert [r.loss for r in h_r.records] == pytest.approx([r.loss for r in h_e.records], rel=1e-12)
    assert np.allclose(_numbers(m_r), _numbers(m_e), rtol=1e-12, atol=1e-15)
