from __future__ import annotations

import subprocess
import sys

import micrograd_x


def test_every_public_name_resolves() -> None:
    for name in micrograd_x.__all__:
        assert getattr(micrograd_x, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        micrograd_x.no_such_thing  # noqa: B018
    except AttributeError as e:
        assert "no_such_thing" in str(e)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_light() -> None:
    # The core and the package root load neither numpy, tqdm nor graphviz.
    code = (
        "import sys, micrograd_x, micrograd_x.engine, micrograd_x.ops;"
        "heavy = [m for m in ('numpy', 'tqdm', 'graphviz', 'hypothesis', 'mpmath') "
        "if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_functions_do_not_shadow_modules() -> None:
    import micrograd_x.chainrule as chainrule
    import micrograd_x.render as render

    assert micrograd_x.draw is render.draw
    assert micrograd_x.explain is chainrule.explain
