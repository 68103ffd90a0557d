"""Tests for micrograd_x.cli: the ``micrograd-x`` command line, run in-process and as a module.

Exit codes: 0 success, 1 failure, 2 usage error. Files must be written exactly where asked.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd_x.cli import DEMO_FILES, UsageError, main, parse_assignments

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot program is not installed")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------------------------------------
# --at


def test_parse_assignments_reads_pairs_in_order() -> None:
    assert parse_assignments("x=1.5,y=-2") == {"x": 1.5, "y": -2.0}
    assert parse_assignments(" w_1 = 1e-3 , b=0 ") == {"w_1": 0.001, "b": 0.0}
    assert list(parse_assignments("b=1,a=2")) == ["b", "a"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x", "--at: expected NAME=NUMBER pairs separated by commas, got 'x'"),
        ("x=1,", "--at: expected NAME=NUMBER pairs separated by commas, got ''"),
        ("=1", "expected NAME=NUMBER"),
        ("x=", "expected NAME=NUMBER"),
        ("1x=2", "--at: '1x' is not a variable name"),
        ("x=1,x=2", "--at: 'x' is given twice"),
        ("x=one", "--at: the value of 'x' is not a number: 'one'"),
        ("x=nan", "--at: the value of 'x' must be finite, got 'nan'"),
        ("x=-inf", "--at: the value of 'x' must be finite, got '-inf'"),
        ("x=1e999", "must be finite"),
    ],
)
def test_parse_assignments_rejects_bad_text(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_assignments(text)
    assert message in str(info.value)


# ---------------------------------------------------------------------------------------------
# help, version, usage errors


def test_help_lists_the_subcommands_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for word in ("demo", "draw", "check", "exit codes: 0 success, 1 failure, 2 usage error"):
        assert word in out


@pytest.mark.parametrize("command", ["demo", "draw", "check"])
def test_each_subcommand_has_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert out.startswith(f"usage: micrograd-x {command}")
    if command != "demo":
        assert "--at" in out and "functions: abs, cos" in out and "tanh" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from micrograd_x import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"micrograd-x {__version__}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "micrograd-x: error: the following arguments are required: COMMAND"),
        (["fly"], "micrograd-x: error: argument COMMAND: invalid choice: 'fly'"),
        (["draw"], "micrograd-x draw: error: the following arguments are required: EXPR"),
        (["draw", "x", "--bogus"], "micrograd-x: error: unrecognized arguments: --bogus"),
        (["check", "x", "--at", "x=1", "--atol", "-1"], "must be a finite number >= 0"),
        (["demo", "--steps", "0"], "micrograd-x demo: error: argument --steps: must be >= 1"),
    ],
)
def test_usage_errors_exit_2_with_a_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert "usage: micrograd-x" in err


@pytest.mark.parametrize("command", ["draw", "check"])
@pytest.mark.parametrize(
    ("expression", "at", "lines"),
    [
        (
            "x +",
            "x=1",
            [
                "micrograd-x: error: bad expression: the expression ends where a number, name or "
                "'(' was expected (column 4)",
                "x +",
                "   ^",
            ],
        ),
        (
            "__import__('os').system('true')",
            "x=1",
            ["micrograd-x: error: bad expression: unknown function '__import__'", "^"],
        ),
        ("2x", "x=1", ["(write 2*x, not 2x) (column 2)", "2x", " ^"]),
        ("x + y", "x=1", ["micrograd-x: error: --at: no value given for variable 'y'"]),
        (
            "x + y",
            "x=1,y=2,z=3",
            ["micrograd-x: error: --at: variable 'z' not in the expression (it uses x, y)"],
        ),
        ("x", "x=nan", ["micrograd-x: error: --at: the value of 'x' must be finite, got 'nan'"]),
        ("x", "x:1", ["--at: expected NAME=NUMBER pairs separated by commas, got 'x:1'"]),
    ],
)
def test_bad_expressions_and_points_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: str,
    expression: str,
    at: str,
    lines: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, command, expression, "--at", at)
    assert code == 2
    assert out == ""
    got = err.splitlines()
    assert got[0].startswith(lines[0]) or lines[0] in got[0]
    assert got[1:] == lines[1:] or all(line in err for line in lines[1:])
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("command", ["draw", "check"])
@pytest.mark.parametrize(
    ("expression", "at", "message"),
    [
        ("log(x)", "x=-1", "cannot evaluate 'log(x)' at x=-1: log: input must be > 0, got -1.0"),
        ("1 / x", "x=0", "cannot evaluate '1 / x' at x=0: div: division by zero"),
        ("exp(x)", "x=1000", "exp: result overflows a float for input 1000.0"),
        ("sqrt(x)", "x=0", "sqrt"),
    ],
)
def test_domain_errors_at_the_point_exit_1(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: str,
    expression: str,
    at: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, command, expression, "--at", at)
    assert code == 1
    assert message in err
    assert err.startswith("micrograd-x: ")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "1 + 2"], "check: the expression has no variables to differentiate"),
        (["check", "x * y", "--at", "x=1", "--at", "x=2,y=1"], "--at: 'x' is given twice"),
        (
            ["draw", "x * y", "--at", "x=1,y=2", "--wrt", "z"],
            "--wrt: 'z' is not a variable of the expression (it uses x, y)",
        ),
        (
            ["draw", "x", "--at", "x=1", "-o", "graph.txt"],
            "-o: cannot tell the format of 'graph.txt'",
        ),
    ],
    ids=["no-variable", "at-twice", "wrt-not-a-variable", "unknown-format"],
)
def test_arguments_that_do_not_fit_the_expression_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert list(tmp_path.iterdir()) == []  # nothing written


# ---------------------------------------------------------------------------------------------
# draw


def _printed_gradients(out: str) -> dict[str, float]:
    grads = {}
    for line in out.splitlines():
        if line.startswith("  ∂/∂"):
            name, value = line[len("  ∂/∂") :].split(" = ")
            grads[name] = float(value)
    return grads


def test_draw_prints_gradients_and_the_chain_rule_and_writes_dot(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "chain.dot"
    code, out, err = run(
        capsys, "draw", "x*y + sin(x)", "--at", "x=1.5,y=-2", "--wrt", "y", "-o", str(target)
    )
    assert (code, err) == (0, "")
    x, y = 1.5, -2.0
    assert out.splitlines()[0] == f"x*y + sin(x) = {x * y + math.sin(x):.6g} at x=1.5, y=-2"
    grads = _printed_gradients(out)
    assert grads.keys() == {"x", "y"}
    assert math.isclose(grads["x"], y + math.cos(x), rel_tol=1e-5)
    assert math.isclose(grads["y"], x, rel_tol=1e-5)
    assert "∂out/∂y" in out and "✓ equals y.grad" in out
    assert out.rstrip().endswith(f"wrote {target}")
    assert [p.name for p in tmp_path.iterdir()] == ["chain.dot"]  # no temporary file left
    dot_text = target.read_text(encoding="utf-8")
    assert dot_text.startswith("digraph")
    assert "out" in dot_text and "sin" in dot_text


def test_draw_defaults_to_graph_svg_and_the_first_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if not HAS_DOT:
        pytest.skip("Graphviz's dot program is not installed")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(
        capsys,
        "draw",
        "tanh(w1*x1 + w2*x2 + b)",
        "--at",
        "x1=2,x2=0",
        "--at",
        "w1=-3,w2=1,b=6.8813735870195432",
    )
    assert code == 0
    assert "∂out/∂w1" in out  # w1 comes first in the expression
    assert math.isclose(_printed_gradients(out)["w1"], 1.0, rel_tol=1e-5)
    svg = (tmp_path / "graph.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "w1" in svg and "✓" in svg


def test_draw_of_a_constant_expression_has_no_chain(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "draw", "2 ^ 10", "-o", str(tmp_path / "c.json"))
    assert code == 0
    assert out.splitlines()[0] == "2 ^ 10 = 1024 at (no variables)"
    assert "∂" not in out
    assert (tmp_path / "c.json").read_text(encoding="utf-8").lstrip().startswith("{")


def test_draw_reports_an_unwritable_output_as_a_failure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "folder" / "g.dot"
    code, _, err = run(capsys, "draw", "x", "--at", "x=1", "-o", str(target))
    assert code == 1
    assert f"cannot write '{target}'" in err
    assert not target.parent.exists()


# ---------------------------------------------------------------------------------------------
# check


def test_check_passes_and_prints_a_row_per_variable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "tanh(w*x + b) * exp(x)", "--at", "w=0.5,x=-1,b=0.25")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "gradcheck of tanh(w*x + b) * exp(x) at w=0.5, x=-1, b=0.25"
    rows = {line.split()[1]: line.split() for line in lines[2:5]}
    assert rows.keys() == {"w", "x", "b"}
    assert all(row[-1] == "ok" for row in rows.values())
    # the analytic column is backward's gradient: compare with the closed form
    w, x, b = 0.5, -1.0, 0.25
    t = math.tanh(w * x + b)
    assert math.isclose(float(rows["w"][2]), (1 - t * t) * x * math.exp(x), rel_tol=1e-6)
    assert "gradcheck passed" in out


def test_check_reports_a_kink_as_inconclusive_or_as_a_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "check", "relu(x) * y", "--at", "x=0,y=2")
    assert code == 0
    assert "kink: inconclusive" in out and "input 0 is inconclusive" in out
    code, out, _ = run(capsys, "check", "relu(x) * y", "--at", "x=0,y=2", "--kinks", "fail")
    assert code == 1
    assert "kink: FAILED" in out and "gradcheck FAILED" in out


def test_a_tolerance_below_the_differences_own_error_is_inconclusive_not_a_mismatch(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # d(x³)/dx = 12 exactly; the central difference is off by about h², which no zero
    # tolerance can accept: the checker says it cannot decide, never "a wrong derivative".
    code, out, _ = run(capsys, "check", "x^3", "--at", "x=2", "--atol", "0", "--rtol", "0")
    assert code == 0
    assert "ill-conditioned: inconclusive" in out and "gradcheck inconclusive" in out
    assert "MISMATCH" not in out and "wrong local derivative" not in out
    strict = ["--atol", "0", "--rtol", "0", "--kinks", "fail"]
    code, out, _ = run(capsys, "check", "x^3", "--at", "x=2", *strict)
    assert code == 1
    assert "ill-conditioned: FAILED" in out and "gradcheck FAILED" in out


# ---------------------------------------------------------------------------------------------
# demo


@needs_dot
def test_demo_trains_to_full_accuracy_and_writes_three_figures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "figures"
    code, out, err = run(capsys, "demo", "--out", str(folder), "--no-progress")
    assert code == 0
    assert err == ""
    assert "final accuracy: 100%" in out
    assert sorted(p.name for p in folder.iterdir()) == sorted(DEMO_FILES)
    for name in DEMO_FILES:
        assert f"wrote {folder / name}" in out
        data = (folder / name).read_bytes()
        assert 1_000 < len(data) < 300_000
        if name.endswith(".png"):
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
        else:
            assert b"<svg" in data and b"hinge loss" in data


def test_demo_shows_a_progress_bar(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    if not HAS_DOT:
        pytest.skip("Graphviz's dot program is not installed")
    code, out, err = run(capsys, "demo", "--out", str(tmp_path), "--steps", "3")
    assert code == 0
    assert "3/3" in err  # tqdm writes to stderr
    assert "3 steps" in out and "final accuracy:" in out


@needs_dot
@pytest.mark.parametrize(
    ("flags", "mode"), [((), "replay"), (("--replay",), "replay"), (("--no-replay",), "eager")]
)
def test_demo_replays_the_loss_graph_unless_told_not_to(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flags: tuple[str, ...], mode: str
) -> None:
    args = ("demo", "--out", str(tmp_path), "--steps", "3", "--no-progress", *flags)
    code, out, err = run(capsys, *args)
    assert code == 0 and err == ""
    assert f"steps run in {mode} mode" in out


# ---------------------------------------------------------------------------------------------
# python -m micrograd_x


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["draw", "x^2 + 1", "--at", "x=3", "-o", "g.dot"], 0),
        (["check", "relu(x)", "--at", "x=0", "--kinks", "fail"], 1),
        (["draw", "x +", "--at", "x=3"], 2),
    ],
)
def test_python_dash_m_runs_the_command_line(
    tmp_path: Path, argv: list[str], expected: int
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "micrograd_x", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == expected, proc.stderr
    if expected == 0:
        assert (tmp_path / "g.dot").read_text(encoding="utf-8").startswith("digraph")
        assert "∂/∂x = 6" in proc.stdout
    elif expected == 2:
        assert proc.stderr.splitlines()[-2:] == ["x +", "   ^"]


def test_readme_pictures_are_committed_and_small() -> None:
    images = Path(__file__).resolve().parents[1] / "docs" / "images"
    for name in (*DEMO_FILES, "neuron.svg"):
        size = (images / name).stat().st_size
        assert 1_000 < size < 300_000, name


@pytest.mark.parametrize(
    "argv",
    [
        ["check", " -x^2", "--at", "x=3"],
        ["check", "--at", "x=3", "--", "-x^2"],
    ],
)
def test_an_expression_starting_with_a_minus_sign(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "-6" in out.splitlines()[2]  # d/dx of -x² at 3
