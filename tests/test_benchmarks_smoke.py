"""A tiny run of the benchmark suite, so the harness keeps working (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("micrograd", reason="the benchmarks compare with micrograd 0.1.0")


def test_benchmark_harness_runs_every_case_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results" / "smoke.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--scale", "smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["scale"] == "smoke"
    assert payload["environment"]["numpy"]
    cases = {row["case"] for row in payload["rows"]}
    assert cases == {
        "raw",
        "chain",
        "demo",
        "big",
        "table",
        "callbacks",
        "render",
        "drawing",
        "explore",
    }
    engines = {row["engine"] for row in payload["rows"]}
    assert {"micrograd_x", "micrograd"} <= engines
    # micrograd's recursive topological sort cannot take the deep chain.
    chain = [r for r in payload["rows"] if r["case"] == "chain" and r["engine"] == "micrograd"]
    assert any("RecursionError" in r["note"] for r in chain)
    metrics = {(r["case"], r["metric"]) for r in payload["rows"] if r["median"] is not None}
    assert {("raw", "fwd+bwd"), ("raw", "memory"), ("demo", "step"), ("render", "DOT text")} <= (
        metrics
    )
    assert "vs micrograd" in proc.stdout and "Python" in proc.stdout
    # Nothing but the JSON file is left in the results folder (written atomically).
    assert [p.name for p in out.parent.iterdir()] == ["smoke.json"]


def test_benchmark_options_are_checked() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown case(s) nope" in proc.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert listed.stdout.split()[0] == "raw"
