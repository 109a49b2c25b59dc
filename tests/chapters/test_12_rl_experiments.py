"""Chapter 12: the experiments' claims hold on the reference solution.

The namespace comes from executing the chapter's source (tests cells excepted), which solves the
lakes, plays them in Gymnasium, trains Q-learning and SARSA on the cliff and REINFORCE on
CartPole once for the whole module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograder.authoring import solution_namespace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(ROOT / "solutions" / "12_rl.py")


def test_dynamic_programming_matches_gymnasium_and_its_own_play(ns):
    small, large = ns["dp"]["4x4"], ns["dp"]["8x8"]
    for result in (small, large):
        assert result["same_as_gym"]
        assert result["vi_pi_gap"] < 1e-7                       # value and policy iteration agree
        assert result["evaluations"] < 20 < 10 * result["evaluations"] < result["sweeps99"]
    assert abs(small["V"][0] - 0.8235) < 1e-3
    assert abs(small["win_rate"] - small["V"][0]) < 0.03        # 2000 episodes: about 3.5 standard errors
    assert large["V"][0] > 0.99 and large["win_rate"] > 0.97


def test_q_learning_walks_the_edge_and_sarsa_keeps_away(ns):
    q, sarsa = ns["cliff"]["q_learning"], ns["cliff"]["sarsa"]
    assert ns["V_cliff"][ns["CLIFF_START"]] == -13.0
    assert all(total == -13.0 for total in q["greedy_returns"])          # the optimal path, every seed
    assert np.mean(sarsa["greedy_returns"]) < -14.0                        # a detour
    assert np.mean(sarsa["path_rows"]) < np.mean(q["path_rows"]) - 0.3     # further up, away from the cliff
    assert sarsa["returns"][:, -100:].mean() > q["returns"][:, -100:].mean() + 5   # but more reward while exploring
    rows = [s // 12 for s in q["path"]]
    assert rows[0] == rows[-1] == 3 and set(rows[1:-1]) == {2}             # up, along row 2, down


def test_reinforce_solves_cartpole_and_the_baseline_helps(ns):
    solved = ns["pg_solved"]
    assert all(solved[True]), solved
    assert sum(solved[True]) < sum(n or ns["PG_MAX_EPISODES"] for n in solved[False])
    assert ns["pg_eval"].mean() >= 195 and len(ns["pg_eval"]) == 100
    returns = ns["pg_returns"]
    assert np.mean(returns[-100:]) >= 195 and np.mean(returns[:50]) < 60   # it learned


def test_the_explorer_runs_on_the_chapter_functions(ns):
    view = ns["grid_view"]
    assert view.state["error"] is None
    view.set(map="cliff (holes -100)", step_reward=-1.0, gamma=0.99, epsilon=0.1)
    view.converge_button.click()
    V, V_eps = view.state["V"], view.state["V_eps"]
    assert view.state["change"] < 1e-8 and V_eps[36] < V[36] - 5     # exploring next to the cliff is costly
