"""``python -m micrograd_x``: the command line (see :mod:`micrograd_x.cli`)."""

from __future__ import annotations

from micrograd_x.cli import main

raise SystemExit(main())
