"""Network prominence and brokerage: centralities of each period's internal graph, as percentiles.

The graph is the aggregated edge table (one row per pair of colleagues and
period), small next to the events; igraph computes on it in compiled code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from repsight.config import MetricsConfig

__all__ = ["GraphScores", "percentiles", "period_scores"]

# Raw centralities are compared after scaling to the largest and rounding to
# this many decimals, so that equal values computed along different paths tie.
DECIMALS = 9
# Leading eigenvalues of components closer than this (relative) are equal: the components tie.
EIGENVALUE_TIE = 1e-9


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


def _centralities(
    nodes: int, pairs: np.ndarray, weights: np.ndarray, rules: MetricsConfig
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return eigenvector centrality, betweenness, and whether betweenness was estimated, of one graph.

    `pairs` holds the edges as rows of two node numbers. A module-level
    function of plain arrays, so that periods can run in worker processes.
    """
    import igraph

    graph = igraph.Graph(n=nodes, edges=pairs.tolist())
    graph.es["weight"] = weights.tolist()
    brokerage, sampled = _betweenness(graph, rules)
    return _eigenvector(graph), brokerage, sampled


def _eigenvector(graph: object) -> np.ndarray:
    """Return eigenvector centrality: per component with the largest leading eigenvalue, scaled to a largest entry of 1.

    Components whose leading eigenvalue ties with the largest (relative
    difference under `EIGENVALUE_TIE`) all keep their own vector; everyone
    else scores 0 (docs/metrics.md). Asked for the whole graph, igraph would
    return an arbitrary mix of the tied components' vectors.
    """
    import igraph

    assert isinstance(graph, igraph.Graph)
    values = np.zeros(graph.vcount())
    if graph.ecount() == 0:
        return values
    strength = np.asarray(graph.strength(weights="weight"), dtype=float)
    components = sorted((sorted(c) for c in graph.connected_components()), key=lambda members: -strength[members].max())
    top = 0.0
    kept: list[tuple[float, list[int], np.ndarray]] = []
    for members in components:
        # A leading eigenvalue is at most the largest weighted degree: past
        # that, no component can reach the top one.
        if strength[members].max() < top * (1 - EIGENVALUE_TIE):
            break
        if len(members) < 2:
            continue
        vector, value = graph.induced_subgraph(members).eigenvector_centrality(weights="weight", return_eigenvalue=True)
        top = max(top, value)
        kept.append((value, members, np.clip(np.asarray(vector, dtype=float), 0.0, None)))
    for value, members, vector in kept:
        if value >= top * (1 - EIGENVALUE_TIE):
            values[members] = vector / vector.max()
    return values


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
    """Return the percentile scores of `people` (person, period) in each period's graph of `edges` (period, a, b, weight).

    Periods are independent graphs: with several of them and several cores,
    they are computed in parallel worker processes.
    """
    edge_periods = edges["period"].to_numpy(zero_copy_only=False)
    people_periods = people["period"].to_numpy(zero_copy_only=False)
    periods = sorted(set(people_periods.tolist()))
    graphs = []
    for period in periods:
        chosen = edges.filter(pa.array(edge_periods == period))
        a = chosen["a"].to_numpy(zero_copy_only=False)
        b = chosen["b"].to_numpy(zero_copy_only=False)
        names, index = np.unique(np.concatenate([a, b]), return_inverse=True)
        pairs = np.column_stack([index[: len(a)], index[len(a) :]])
        graphs.append((names, pairs, chosen["weight"].to_numpy(zero_copy_only=False).astype(float)))
    results = _map_graphs([(len(names), pairs, weights, rules) for names, pairs, weights in graphs])
    parts: list[pa.Table] = []
    estimated: dict[str, int] = {}
    for period, (names, _, _), (prominence, brokerage, sampled) in zip(periods, graphs, results, strict=True):
        if sampled:
            estimated[period] = len(names)
        members = people.filter(pa.array(people_periods == period))["person"].to_numpy(zero_copy_only=False)
        member_prominence = np.zeros(len(members))
        member_brokerage = np.zeros(len(members))
        if len(names):
            position = np.minimum(np.searchsorted(names, members), len(names) - 1)
            found = names[position] == members
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


# Below this many edges in all, starting worker processes costs more than it saves.
PARALLEL_MIN_EDGES = 50_000


def _map_graphs(
    jobs: list[tuple[int, np.ndarray, np.ndarray, MetricsConfig]],
) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """Return `_centralities` of each job, in parallel processes where that pays."""
    import os

    workers = min(len(jobs), os.cpu_count() or 1)
    if workers < 2 or sum(len(pairs) for _, pairs, _, _ in jobs) < PARALLEL_MIN_EDGES:
        return [_centralities(*job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # "spawn": the parent holds database and engine threads, which a fork would copy mid-flight.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_centralities, *zip(*jobs, strict=True)))


def _percentiles_scaled(members: np.ndarray, everyone: np.ndarray) -> pa.Array:
    """Return percentiles of `members`' values, scaled by the largest value in the whole graph."""
    top = float(np.max(everyone)) if len(everyone) else 0.0
    return pa.array(percentiles(members, top), pa.float64())
