"""Network prominence and brokerage: percentiles of igraph centralities, checked against networkx."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest

from repsight.config import MetricsConfig
from repsight.metrics.centrality import percentiles, period_scores


def edges(rows: list[tuple[str, str, str, int]]) -> pa.Table:
    return pa.table(
        {
            "period": [r[0] for r in rows],
            "a": [r[1] for r in rows],
            "b": [r[2] for r in rows],
            "weight": pa.array([r[3] for r in rows], pa.int64()),
        }
    )


def people(period: str, names: list[str]) -> pa.Table:
    return pa.table({"person": names, "period": [period] * len(names)})


def test_percentiles_share_tied_ranks() -> None:
    assert percentiles(np.array([0.0, 0.0, 1.0, 2.0, 2.0, 2.0]), 2.0).tolist() == [10.0, 10.0, 40.0, 80.0, 80.0, 80.0]
    assert percentiles(np.array([3.0]), 3.0).tolist() == [50.0]
    assert percentiles(np.array([0.0, 0.0]), 0.0).tolist() == [50.0, 50.0]


def test_a_path_puts_its_middle_on_top_for_brokerage() -> None:
    scores = period_scores(edges([("Q", "a", "b", 1), ("Q", "b", "c", 1)]), people("Q", ["a", "b", "c"]), MetricsConfig())
    rows = {r["person"]: r for r in scores.table.to_pylist()}
    assert rows["b"]["network_brokerage"] == 100.0
    assert rows["a"]["network_brokerage"] == rows["c"]["network_brokerage"] == 25.0
    assert rows["b"]["network_prominence"] == 100.0
    assert scores.estimated == {}


def test_someone_outside_the_graph_scores_lowest() -> None:
    scores = period_scores(edges([("Q", "a", "b", 3)]), people("Q", ["a", "b", "z"]), MetricsConfig())
    rows = {r["person"]: r for r in scores.table.to_pylist()}
    # Nobody lies between two others: every brokerage ties at the middle.
    assert rows["z"]["network_prominence"] == 0.0 and rows["z"]["network_brokerage"] == 50.0
    assert rows["a"]["network_prominence"] == rows["b"]["network_prominence"] == 75.0


def test_weighted_prominence_follows_networkx() -> None:
    graph = nx.karate_club_graph()
    rows = [("Q", f"p{a:02d}", f"p{b:02d}", int(w)) for a, b, w in graph.edges(data="weight")]
    names = [f"p{n:02d}" for n in graph.nodes]
    scores = {r["person"]: r for r in period_scores(edges(rows), people("Q", names), MetricsConfig()).table.to_pylist()}
    centrality = nx.eigenvector_centrality_numpy(graph, weight="weight")
    raw = np.array([centrality[n] for n in graph.nodes])
    expected = percentiles(raw, float(raw.max()))
    assert [scores[name]["network_prominence"] for name in names] == expected.tolist()


def test_a_long_light_chain_off_a_heavy_core_scores_without_a_warning() -> None:
    # Prominence falls about nine-thousandfold (the core's eigenvalue) at
    # each step down the chain: igraph would warn that the graph may be
    # disconnected, and a worker process would print that on the user's terminal.
    core = [("Q", f"c{a}", f"c{b}", 1000) for a in range(10) for b in range(a + 1, 10)]
    chain = [("Q", "c0" if k == 0 else f"t{k - 1:02d}", f"t{k:02d}", 1) for k in range(30)]
    graph = nx.Graph()
    graph.add_weighted_edges_from((a, b, w) for _, a, b, w in core + chain)
    names = sorted(graph.nodes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = {
            r["person"]: r for r in period_scores(edges(core + chain), people("Q", names), MetricsConfig()).table.to_pylist()
        }
    centrality = nx.eigenvector_centrality_numpy(graph, weight="weight")
    raw = np.array([centrality[n] for n in names])
    expected = percentiles(raw, float(raw.max()))
    assert [scores[name]["network_prominence"] for name in names] == expected.tolist()


def test_large_networks_estimate_brokerage_from_samples_and_say_so() -> None:
    graph = nx.connected_watts_strogatz_graph(400, 6, 0.1, seed=3)
    rows = [("Q", f"p{a:03d}", f"p{b:03d}", 1) for a, b in graph.edges]
    names = [f"p{n:03d}" for n in graph.nodes]
    sampled = period_scores(
        edges(rows), people("Q", names), MetricsConfig(betweenness_exact_max_people=100, betweenness_samples=200)
    )
    assert sampled.estimated == {"Q": 400}
    exact = period_scores(edges(rows), people("Q", names), MetricsConfig())
    estimate = np.array([r["network_brokerage"] for r in sampled.table.to_pylist()])
    truth = np.array([r["network_brokerage"] for r in exact.table.to_pylist()])
    assert np.corrcoef(estimate, truth)[0, 1] > 0.9
    again = period_scores(
        edges(rows), people("Q", names), MetricsConfig(betweenness_exact_max_people=100, betweenness_samples=200)
    )
    assert again.table.equals(sampled.table)


def test_periods_in_worker_processes_give_the_same_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    import repsight.metrics.centrality as graph_module

    graph = nx.connected_watts_strogatz_graph(120, 4, 0.2, seed=5)
    rows = [(period, f"p{a:03d}", f"p{b:03d}", 1 + (a + b) % 3) for period in ("Q1", "Q2") for a, b in graph.edges]
    names = [f"p{n:03d}" for n in graph.nodes]
    members = pa.concat_tables([people("Q1", names), people("Q2", names[:60])])
    serial = period_scores(edges(rows), members, MetricsConfig())
    monkeypatch.setattr(graph_module, "PARALLEL_MIN_EDGES", 0)
    monkeypatch.setattr(graph_module, "_cores", lambda: 2)
    parallel = period_scores(edges(rows), members, MetricsConfig())
    assert parallel.table.equals(serial.table)


def test_sampled_brokerage_split_between_workers_equals_the_serial_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each graph's sources are shared out between the workers; summing the
    # shares must give the serial figures, for three periods on two workers
    # and for the sampled estimate as for the exact one.
    import repsight.metrics.centrality as graph_module

    graph = nx.connected_watts_strogatz_graph(300, 6, 0.1, seed=8)
    periods = ("Q1", "Q2", "Q3")
    rows = [(period, f"p{a:03d}", f"p{b:03d}", 1) for period in periods for a, b in graph.edges]
    names = [f"p{n:03d}" for n in graph.nodes]
    members = pa.concat_tables([people(period, names) for period in periods])
    for rules in (MetricsConfig(), MetricsConfig(betweenness_exact_max_people=100, betweenness_samples=151)):
        monkeypatch.setattr(graph_module, "PARALLEL_MIN_EDGES", 10**9)
        serial = period_scores(edges(rows), members, rules)
        monkeypatch.setattr(graph_module, "PARALLEL_MIN_EDGES", 0)
        monkeypatch.setattr(graph_module, "_cores", lambda: 2)
        parallel = period_scores(edges(rows), members, rules)
        assert parallel.estimated == serial.estimated
        assert parallel.table.equals(serial.table)


def test_prominence_goes_to_the_larger_eigenvalue_not_the_larger_degree() -> None:
    star = [("Q", "hub", f"leaf{i}", 1) for i in range(5)]  # eigenvalue sqrt(5), hub degree 5
    triangle = [("Q", "x", "y", 2), ("Q", "x", "z", 2), ("Q", "y", "z", 2)]  # eigenvalue 4, degrees 4
    names = ["hub", *(f"leaf{i}" for i in range(5)), "x", "y", "z"]
    scores = period_scores(edges(star + triangle), people("Q", names), MetricsConfig()).table.to_pylist()
    # The star scores 0 (ranks 1-6, average 3.5), the triangle 1 (ranks 7-9, average 8): 100 × (rank − 1) / 8.
    assert {r["person"]: r["network_prominence"] for r in scores} == dict.fromkeys(names[:6], 31.25) | dict.fromkeys("xyz", 87.5)
