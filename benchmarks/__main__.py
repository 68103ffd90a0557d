"""``python -m benchmarks``: run the benchmark suite, print a table, write the figures as JSON.

Every case runs micrograd_x side by side with micrograd 0.1.0 (and PyTorch when installed) in the
same process, so ratios compare figures measured under the same machine load.
Imports the benchmark cases and the standard library.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks._common import SCALES, Row, Scale, environment, format_table, rows_payload
from benchmarks._common import write_json as _write_json

__all__ = ["CASES", "main"]

RESULTS = Path(__file__).resolve().parent / "results"


def _raw(scale: Scale) -> list[Row]:
    from benchmarks.raw_graph import raw_rows

    return raw_rows(scale)


def _chain(scale: Scale) -> list[Row]:
    from benchmarks.raw_graph import chain_rows

    return chain_rows(scale)


def _demo(scale: Scale) -> list[Row]:
    from benchmarks.training import demo_rows

    return demo_rows(scale)


def _big(scale: Scale) -> list[Row]:
    from benchmarks.training import big_rows

    return big_rows(scale)


def _table(scale: Scale) -> list[Row]:
    from benchmarks.scaling import table_rows

    return table_rows(scale)


def _render(scale: Scale) -> list[Row]:
    from benchmarks.training import render_rows

    return render_rows(scale)


def _callbacks(scale: Scale) -> list[Row]:
    from benchmarks.callbacks import callback_rows

    return callback_rows(scale)


def _drawing(scale: Scale) -> list[Row]:
    from benchmarks.drawing import drawing_rows

    return drawing_rows(scale)


def _explore(scale: Scale) -> list[Row]:
    from benchmarks.explore import rows

    return rows(scale)


CASES: dict[str, tuple[Callable[[Scale], list[Row]], str]] = {
    "raw": (_raw, "~200k-node graph of mixed ops: forward, backward (µs/node), bytes per node"),
    "chain": (_chain, "a chain of 10^6 nodes: forward and backward (µs/node)"),
    "demo": (_demo, "micrograd's demo step: MLP(2,[16,16,1]), 100 moons, hinge + 1e-4 L2"),
    "big": (_big, "MLP(2,[64,64,1]) on 1,000 points: replay steps and memory across them"),
    "table": (_table, "fit replayed vs PyTorch and a numpy floor: widths × points, capture cost"),
    "callbacks": (_callbacks, "a replayed fit's step with no callback, a no-op one, a reading one"),
    "render": (_render, "drawing the demo's loss graph collapsed by module"),
    "explore": (_explore, "explorer: a slider change on a 200-node graph (Python side)"),
    "drawing": (_drawing, "the demo's network view; refusing a 2×10⁵-value graph before layout"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--scale", choices=sorted(SCALES), default="full", help="problem sizes (default: full)"
    )
    parser.add_argument("--quick", action="store_true", help="same as --scale quick")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only these cases (repeatable or comma-separated): {', '.join(CASES)}",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="where to write the JSON")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, (_, what) in CASES.items():
            print(f"{name:8} {what}")
        return 0
    scale = SCALES["quick" if args.quick else args.scale]
    names = list(CASES)
    if args.only:
        names = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
        unknown = [n for n in names if n not in CASES]
        if unknown:
            parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    env = environment()
    print(
        f"micrograd_x benchmarks ({scale.name}): Python {env['python']}, numpy {env['numpy']}, "
        f"micrograd {env['micrograd']}, torch {env['torch'] or 'not installed'}, "
        f"{env['cpus']} CPUs",
        flush=True,
    )
    rows: list[Row] = []
    failed: list[str] = []
    started = time.time()
    for name in names:
        fn, what = CASES[name]
        print(f"-- {name}: {what}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            rows.extend(fn(scale))
        except Exception as e:  # one broken case must not lose the others' figures
            traceback.print_exc()
            rows.append(Row(name, "—", "—", "failed", None, "", note=f"{type(e).__name__}: {e}"))
            failed.append(name)
        print(f"   ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    print(format_table(rows))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started))
    path = args.json or RESULTS / f"{stamp}-{scale.name}.json"
    payload = {
        "scale": scale.name,
        "started": stamp,
        "command": "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv),
        "environment": env,
        "rows": rows_payload(rows),
    }
    _write_json(path, payload)
    print(f"\nwrote {path}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
