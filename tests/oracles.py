"""Independent oracles shared by several test modules, written without the code they check."""

from __future__ import annotations

from micrograd_x.graph import Edge, Graph


def brute_paths(g: Graph, src: int, dst: int) -> list[list[Edge]]:
    """Every edge path from src to dst, by plain recursion over outgoing edges (small graphs)."""
    if src == dst:
        return [[]]
    found = []
    for e in g.edges:
        if e.source == src:
            found += [[e, *rest] for rest in brute_paths(g, e.destination, dst)]
    return found
