"""The Hypothesis plugin hook: ``st.from_type(Value)`` and ``st.from_type(Parameter)`` draw leaves.

Hypothesis runs every ``hypothesis`` entry point when it is imported, so this module must not
import Hypothesis or :mod:`micrograd_x.testing.strategies` at import time: when a program imports
our strategies first, they import Hypothesis, which runs this hook while the strategies module is
still half-initialised. The hook therefore registers callables that import the strategies only
when ``from_type`` first asks for them. Imports the standard library at import time.
"""

from __future__ import annotations

from typing import Any

__all__ = ["register_strategies"]


def _leaves(kind: type) -> Any:
    """The strategy ``from_type`` uses for ``Value`` or ``Parameter`` (imported on first use)."""
    from micrograd_x.engine import Parameter
    from micrograd_x.testing.strategies import values

    return values(parameter=issubclass(kind, Parameter))


def register_strategies() -> None:
    """Register the leaf strategies for ``st.from_type`` (run by Hypothesis's entry point)."""
    from hypothesis import strategies as st

    from micrograd_x.engine import Parameter, Value

    st.register_type_strategy(Value, _leaves)
    st.register_type_strategy(Parameter, _leaves)
