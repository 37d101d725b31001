"""Network prominence and brokerage: centralities of each period's internal graph, as percentiles.

The graph is the aggregated edge table (one row per pair of colleagues and
period), small next to the events; igraph computes on it in compiled code.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


@dataclass(frozen=True)
class _Job:
    """One share of one period graph's work, as plain arrays a worker process can take.

    Betweenness sums over shortest paths from each source, so a graph's
    sources can be split into `shares`; the share numbered 0 also computes
    eigenvector centrality.
    """

    nodes: int
    pairs: np.ndarray
    """The edges, as rows of two node numbers."""
    weights: np.ndarray
    rules: MetricsConfig
    share: int = 0
    shares: int = 1


def _centralities(job: _Job) -> tuple[np.ndarray | None, np.ndarray, bool]:
    """Return eigenvector centrality (share 0 only), this share's betweenness, and whether it was estimated."""
    import igraph

    graph = igraph.Graph(n=job.nodes, edges=job.pairs.tolist())
    graph.es["weight"] = job.weights.tolist()
    brokerage, sampled = _betweenness(graph, job)
    return (_eigenvector(graph) if job.share == 0 else None), brokerage, sampled


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
        component = graph.induced_subgraph(members)
        with warnings.catch_warnings():
            # igraph warns that near-zero values suggest a disconnected graph;
            # a component is connected, and a colleague linked to its core
            # only through a long, light chain rightly scores near zero.
            warnings.filterwarnings("ignore", "Some eigenvector centralities are nearly zero", RuntimeWarning)
            vector, value = component.eigenvector_centrality(weights="weight", return_eigenvalue=True)
        top = max(top, value)
        kept.append((value, members, np.clip(np.asarray(vector, dtype=float), 0.0, None)))
    for value, members, vector in kept:
        if value >= top * (1 - EIGENVALUE_TIE):
            values[members] = vector / vector.max()
    return values


def _betweenness(graph: object, job: _Job) -> tuple[np.ndarray, bool]:
    """Return the betweenness from this share's sources, and whether the sources are a sample."""
    import igraph

    assert isinstance(graph, igraph.Graph)
    nodes = graph.vcount()
    rules = job.rules
    if nodes <= rules.betweenness_exact_max_people:
        if job.shares == 1:
            return np.asarray(graph.betweenness(directed=False), dtype=float), False
        sources = np.arange(nodes)
        sampled = False
    else:
        # Brandes–Pich estimate: shortest paths from a uniform sample of sources,
        # scaled up by nodes / samples. (Only ranks are reported, so the scale
        # does not change a percentile; it keeps raw values comparable.)
        samples = min(rules.betweenness_samples, nodes)
        sources = np.sort(np.random.default_rng(rules.betweenness_seed).choice(nodes, size=samples, replace=False))
        sampled = True
    mine = [int(s) for s in np.array_split(sources, job.shares)[job.share]]
    partial = np.asarray(graph.betweenness(directed=False, sources=mine), dtype=float)
    return (partial * nodes / len(sources) if sampled else partial), sampled


def period_scores(edges: pa.Table, people: pa.Table, rules: MetricsConfig) -> GraphScores:
    """Return the percentile scores of `people` (person, period) in each period's graph of `edges` (period, a, b, weight).

    Periods are independent graphs: with several of them and several cores,
    they are computed in parallel worker processes.
    """
    people_periods = people["period"].to_numpy(zero_copy_only=False)
    periods = sorted(set(people_periods.tolist()))

    def period_graph(period: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the sorted names of a period's nodes, its edges as pairs of their numbers, and its weights."""
        chosen = edges.filter(pc.equal(edges["period"], period))
        ends = pa.chunked_array(chosen["a"].chunks + chosen["b"].chunks, pa.string())
        names = pc.unique(ends).sort()
        # Hashed, not sorted: numbering the ends through np.unique sorted
        # Python strings, as long as betweenness on a 1,500-person graph.
        numbers = [pc.index_in(chosen[end], value_set=names).to_numpy(zero_copy_only=False) for end in ("a", "b")]
        weights = chosen["weight"].to_numpy(zero_copy_only=False).astype(float)
        return names.to_numpy(zero_copy_only=False), np.column_stack(numbers).astype(np.int64), weights

    node_names: list[np.ndarray] = []

    def jobs(shares: int) -> Iterator[_Job]:
        for period in periods:
            names, pairs, weights = period_graph(period)
            node_names.append(names)
            for share in range(shares):
                yield _Job(len(names), pairs, weights, rules, share, shares)

    results = _map_graphs(jobs, edges.num_rows)
    parts: list[pa.Table] = []
    estimated: dict[str, int] = {}
    for period, names, (prominence, brokerage, sampled) in zip(periods, node_names, results, strict=True):
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


def _map_graphs(jobs: Callable[[int], Iterator[_Job]], edges: int) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """Return eigenvector centrality, betweenness and whether it was estimated, per graph of `jobs(shares)`.

    Large graphs run in worker processes, each graph split into as many
    shares as there are workers, so that the cores finish together whatever
    the number of graphs. A graph's shares are handed out as soon as it is
    built, while the workers start.
    """
    workers = _cores()
    if workers < 2 or edges < PARALLEL_MIN_EDGES:
        return [_whole([_centralities(job)]) for job in jobs(1)]
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    # "spawn": the parent holds database and engine threads, which a fork would copy mid-flight.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: list[Future[tuple[np.ndarray | None, np.ndarray, bool]]] = [
            pool.submit(_centralities, job) for job in jobs(workers)
        ]
        done = [future.result() for future in pending]
    return [_whole(done[start : start + workers]) for start in range(0, len(done), workers)]


def _cores() -> int:
    """Return the number of cores this process may run on (its affinity, where the system says)."""
    import os

    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _whole(shares: list[tuple[np.ndarray | None, np.ndarray, bool]]) -> tuple[np.ndarray, np.ndarray, bool]:
    """Return one graph's results from its shares: share 0's eigenvector centrality, the summed betweenness."""
    prominence = shares[0][0]
    assert prominence is not None
    brokerage = shares[0][1]
    for _, part, _ in shares[1:]:
        brokerage = brokerage + part
    return prominence, brokerage, shares[0][2]


def _percentiles_scaled(members: np.ndarray, everyone: np.ndarray) -> pa.Array:
    """Return percentiles of `members`' values, scaled by the largest value in the whole graph."""
    top = float(np.max(everyone)) if len(everyone) else 0.0
    return pa.array(percentiles(members, top), pa.float64())
