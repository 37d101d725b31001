"""Network prominence and brokerage: centralities of each period's internal graph, as percentiles.

The graph is the aggregated edge table (one row per pair of colleagues and
period), small next to the events; igraph computes on it in compiled code.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from repsight.config import MetricsConfig

__all__ = ["GraphScores", "percentiles", "period_scores"]

# Raw centralities are compared after scaling to the largest and rounding to
# this many decimals, so that equal values computed along different paths tie.
DECIMALS = 9


@dataclass
class GraphScores:
    """Percentile scores per person and period, and what was estimated rather than computed exactly."""

    table: pa.Table
    """person, period, network_prominence, network_brokerage."""
    estimated: dict[str, int] = field(default_factory=dict)
    """period → number of people in its graph, for periods whose betweenness was estimated from samples."""


def percentiles(values: np.ndarray, top: float) -> np.ndarray:
    """Return each value's percentile (0–100) among `values`: average ranks, ties shared; 50 for one value.

    Values are divided by `top` (the graph's largest) and rounded first.
    """
    count = len(values)
    if count == 0:
        return np.zeros(0)
    if count == 1:
        return np.full(1, 50.0)
    scaled = np.round(values / top, DECIMALS) if top > 0 else np.zeros(count)
    return 100.0 * (_average_ranks(scaled) - 1.0) / (count - 1)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Return ranks 1 … n of `values`, ascending, equal values sharing their average rank."""
    _, group, counts = np.unique(values, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)  # the rank of each distinct value's last copy
    first = last - counts + 1
    return np.asarray(((first + last) / 2.0)[group], dtype=float)


def _eigenvector(graph: object) -> np.ndarray:
    import igraph

    assert isinstance(graph, igraph.Graph)
    if graph.ecount() == 0:
        return np.zeros(graph.vcount())
    with warnings.catch_warnings():
        # igraph warns that centralities outside the dominant component are
        # zero; that is the definition (docs/metrics.md), not a problem.
        warnings.simplefilter("ignore", RuntimeWarning)
        values = graph.eigenvector_centrality(weights="weight")
    return np.asarray(np.clip(np.asarray(values, dtype=float), 0.0, None), dtype=float)


def _betweenness(graph: object, rules: MetricsConfig) -> tuple[np.ndarray, bool]:
    import igraph

    assert isinstance(graph, igraph.Graph)
    nodes = graph.vcount()
    if nodes <= rules.betweenness_exact_max_people:
        return np.asarray(graph.betweenness(directed=False), dtype=float), False
    # Brandes–Pich estimate: shortest paths from a uniform sample of sources,
    # scaled up by nodes / samples. (Only ranks are reported, so the scale
    # does not change a percentile; it keeps raw values comparable.)
    samples = min(rules.betweenness_samples, nodes)
    sources = np.random.default_rng(rules.betweenness_seed).choice(nodes, size=samples, replace=False)
    partial = np.asarray(graph.betweenness(directed=False, sources=sorted(int(s) for s in sources)), dtype=float)
    return partial * nodes / samples, True


def period_scores(edges: pa.Table, people: pa.Table, rules: MetricsConfig) -> GraphScores:
    """Return the percentile scores of `people` (person, period) in each period's graph of `edges` (period, a, b, weight)."""
    import igraph

    parts: list[pa.Table] = []
    estimated: dict[str, int] = {}
    edge_periods = edges["period"].to_numpy(zero_copy_only=False)
    people_periods = people["period"].to_numpy(zero_copy_only=False)
    for period in sorted(set(people_periods.tolist())):
        chosen = edges.filter(pa.array(edge_periods == period))
        members = people.filter(pa.array(people_periods == period))["person"].to_numpy(zero_copy_only=False)
        a = chosen["a"].to_numpy(zero_copy_only=False)
        b = chosen["b"].to_numpy(zero_copy_only=False)
        names, index = np.unique(np.concatenate([a, b]), return_inverse=True)
        graph = igraph.Graph(n=len(names), edges=np.column_stack([index[: len(a)], index[len(a) :]]).tolist())
        graph.es["weight"] = chosen["weight"].to_numpy(zero_copy_only=False).astype(float).tolist()
        prominence = _eigenvector(graph)
        brokerage, sampled = _betweenness(graph, rules)
        if sampled:
            estimated[period] = len(names)
        position = np.searchsorted(names, members)
        found = (position < len(names)) & (names[np.minimum(position, max(len(names) - 1, 0))] == members) if len(names) else None
        member_prominence = np.zeros(len(members))
        member_brokerage = np.zeros(len(members))
        if found is not None:
            member_prominence[found] = prominence[position[found]]
            member_brokerage[found] = brokerage[position[found]]
        # Percentiles are among the people measured, scaled by the graph's top value.
        parts.append(
            pa.table(
                {
                    "person": pa.array(members, pa.string()),
                    "period": pa.array([period] * len(members), pa.string()),
                    "network_prominence": _percentiles_scaled(member_prominence, prominence),
                    "network_brokerage": _percentiles_scaled(member_brokerage, brokerage),
                }
            )
        )
    schema = pa.schema(
        [
            ("person", pa.string()),
            ("period", pa.string()),
            ("network_prominence", pa.float64()),
            ("network_brokerage", pa.float64()),
        ]
    )
    return GraphScores(pa.concat_tables(parts) if parts else schema.empty_table(), estimated)


def _percentiles_scaled(members: np.ndarray, everyone: np.ndarray) -> pa.Array:
    """Return percentiles of `members`' values, scaled by the largest value in the whole graph."""
    top = float(np.max(everyone)) if len(everyone) else 0.0
    return pa.array(percentiles(members, top), pa.float64())
