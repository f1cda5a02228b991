"""Repo map: ranking by personalized PageRank, rendering, budget fitting, incrementality."""

from __future__ import annotations

from pathlib import Path

import pytest

from quill.index.graph import RefGraph, ident_multiplier
from quill.index.repomap import Candidate, estimate_tokens, fit_to_budget, render
from quill.index.service import WorkspaceIndex

from .conftest import PROJECT

DRAWING = {"app/geometry.py", "app/render.py", "app/units.py"}
UNRELATED = {"app/storage.py", "app/network.py", "app/cli.py"}


def test_focus_file_dependencies_rank_first(cache_dir: Path) -> None:
    with WorkspaceIndex(PROJECT, cache_dir) as index:
        index.index_all()
        repo_map = index.repo_map(budget_tokens=400, focus_files=[PROJECT / "app" / "main.py"])
        names = [item.name for item in repo_map.items]
        # Direct dependencies of main.py first, then their own dependency.
        assert set(names[:3]) == {"PageLayout", "compute_margins", "draw_page"}
        assert names[3] == "to_points"
        assert {item.path for item in repo_map.items} <= DRAWING
        assert "app/main.py" not in repo_map.text  # the focus file itself is left out
        assert repo_map.text.startswith("app/geometry.py:\n│class PageLayout:\n")
        assert "│    def update_dimensions(self, width: int) -> None:" in repo_map.text
        ranks = [item.rank for item in repo_map.items]
        assert ranks == sorted(ranks, reverse=True)

        other = index.repo_map(budget_tokens=400, focus_files=[PROJECT / "app" / "cli.py"])
        assert {item.path for item in other.items} <= UNRELATED
        assert other.items[0].name in {"open_connection", "RecordStore", "load_record"}


def test_map_respects_budget(cache_dir: Path) -> None:
    with WorkspaceIndex(PROJECT, cache_dir) as index:
        index.index_all()
        sizes = []
        for budget in (5, 20, 40, 80, 1000):
            repo_map = index.repo_map(budget_tokens=budget)
            assert repo_map.tokens <= budget
            assert repo_map.tokens == estimate_tokens(repo_map.text)
            sizes.append(len(repo_map.items))
        assert sizes == sorted(sizes)
        assert sizes[0] == 0 and sizes[-1] > sizes[2] > 0
        # A custom counter is used for the fit: one token per line.
        lines = index.repo_map(budget_tokens=4, count_tokens=lambda t: t.count("\n"))
        assert lines.text.count("\n") <= 4 and lines.items


def test_mentioned_identifiers_and_open_files_personalize(cache_dir: Path) -> None:
    with WorkspaceIndex(PROJECT, cache_dir) as index:
        index.index_all()
        mentioned = index.repo_map(budget_tokens=30, mentioned_idents=["open_connection"])
        assert mentioned.items[0].path in UNRELATED
        opened = index.repo_map(budget_tokens=30, open_files=[PROJECT / "app" / "render.py"])
        assert opened.items[0].path in DRAWING


def test_reranking_after_an_edit_does_not_rescan(
    project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WorkspaceIndex(project, cache_dir) as index:
        index.index_all()
        main = project / "app" / "main.py"
        before = index.repo_map(budget_tokens=400, focus_files=[main])
        assert "RecordStore" not in {i.name for i in before.items}
        parsed = index.parse_count

        def no_rescan(*_args: object) -> object:
            raise AssertionError("the whole index was read again")

        monkeypatch.setattr(index._state.store, "iter_refs", no_rescan)
        monkeypatch.setattr(index._state.store, "iter_def_names", no_rescan)
        index.update_file(
            main,
            "from app.storage import RecordStore\n\n"
            "def run_application():\n    RecordStore().load_record('k')\n",
        )
        after = index.repo_map(budget_tokens=400, focus_files=[main])
        assert index.parse_count == parsed + 1
        assert after.items[0].name in {"RecordStore", "load_record"}
        assert "PageLayout" not in {i.name for i in after.items}


def test_warm_start_map_matches_cold(project: Path, cache_dir: Path) -> None:
    focus = [project / "app" / "main.py"]
    with WorkspaceIndex(project, cache_dir) as cold:
        cold.index_all()
        first = cold.repo_map(budget_tokens=300, focus_files=focus)
    with WorkspaceIndex(project, cache_dir) as warm:
        warm.index_all()
        second = warm.repo_map(budget_tokens=300, focus_files=focus)
    assert first.text == second.text


def test_graph_incremental_edges_match_a_rebuild() -> None:
    graph = RefGraph()
    graph.set_file(1, {"alpha_function": 1}, {"beta_function": 2})
    graph.set_file(2, {"beta_function": 1}, {"alpha_function": 1, "gamma_value": 3})
    graph.ensure_edges()
    graph.set_file(3, {"gamma_value": 1, "beta_function": 1}, {"alpha_function": 1})
    graph.set_file(2, {"beta_function": 1, "delta": 1}, {"gamma_value": 1})
    graph.remove_file(1)
    incremental = {k: dict(v) for k, v in graph._out.items()}  # type: ignore[union-attr]
    fresh = RefGraph()
    for fid in (2, 3):
        fresh.set_file(fid, graph.file_defs[fid], graph.file_refs.get(fid, {}))
    fresh.ensure_edges()
    assert incremental.keys() == fresh._out.keys()  # type: ignore[union-attr]
    for src, dsts in incremental.items():
        assert dsts == pytest.approx(fresh._out[src])  # type: ignore[index]


def test_pagerank_converges_and_sums_to_one() -> None:
    graph = RefGraph()
    for i in range(20):
        graph.set_file(i, {f"name_number_{i}": 1}, {f"name_number_{(i * 7 + 3) % 20}": 1})
    ranks = graph.pagerank({0: 1.0})
    assert sum(ranks.values()) == pytest.approx(1.0, abs=1e-6)
    uniform = graph.pagerank({})
    assert max(uniform.values()) == pytest.approx(min(uniform.values()), rel=1e-3)


def test_identifier_weights() -> None:
    assert ident_multiplier("update_dimensions") == 10.0
    assert ident_multiplier("PageLayout") == 10.0
    assert ident_multiplier("run") == 1.0
    assert ident_multiplier("_private_helper") == pytest.approx(1.0)  # x10 shape, x0.1 private
    assert ident_multiplier("x") == pytest.approx(0.1)


def test_render_and_fit_are_pure() -> None:
    cands = [
        Candidate("b.py", "f", "function", "def f():", 3, 0, 0, 0.9),
        Candidate("a.py", "m", "method", "def m(self):", 5, 4, 1, 0.5, ((1, 0, 0, "class A:"),)),
    ]
    assert render(cands) == "a.py:\n│class A:\n│    def m(self):\nb.py:\n│def f():\n"
    fitted = fit_to_budget(cands, budget_tokens=6)
    assert [i.name for i in fitted.items] == ["f"]
    assert fit_to_budget(cands, budget_tokens=0).text == ""
    assert fit_to_budget([], budget_tokens=100).items == []
