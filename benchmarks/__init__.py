"""Benchmarks of micrograd_x, side by side with micrograd 0.1.0 and, when installed, PyTorch.

Run them with ``python -m benchmarks`` (``./dev.sh bench``); see ``benchmarks/README.md``.
Imports micrograd_x, numpy, micrograd and, optionally, torch; nothing here is part of the package.
"""

from __future__ import annotations

__all__: list[str] = []
