"""Shared test configuration: Hypothesis profiles.

``dev`` is quick for local runs; ``ci`` is derandomized with no deadline and no example database,
so CI runs are reproducible; ``nightly`` runs many more random examples.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("nightly", max_examples=2000, deadline=None)
settings.load_profile("dev")
