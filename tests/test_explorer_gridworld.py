"""Chapter 12's gridworld explorer, driven like a student would.

The functions given to it are numpy stand-ins for the student's, with the chapter's signatures,
checked here against Gymnasium's FrozenLake table and a loop over the Bellman equation.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from helpers.explorers.gridworld import MAX_SWEEPS, GridworldExplorer, gridworld_explorer

LAKE = ["SFFF", "FHFH", "FFFH", "HFFG"]

# ----------------------------------------------------------------------------- stand-ins for the student


def frozen_lake(desc, slip=0.0, step_reward=0.0, hole_reward=0.0, goal_reward=1.0):
    nrow, ncol = len(desc), len(desc[0])
    S = nrow * ncol
    flat = "".join(desc)
    terminal = np.array([ch in "HG" for ch in flat])
    gain = np.array([goal_reward if ch == "G" else hole_reward if ch == "H" else step_reward for ch in flat])
    P, R = np.zeros((S, 4, S)), np.zeros((S, 4, S))
    moves = ((0, -1), (1, 0), (0, 1), (-1, 0))
    for s in range(S):
        if terminal[s]:
            P[s, :, s] = 1.0
            continue
        r, c = divmod(s, ncol)
        R[s] = gain
        for a in range(4):
            for d, p in (((a - 1) % 4, slip / 2), (a, 1 - slip), ((a + 1) % 4, slip / 2)):
                dr, dc = moves[d]
                P[s, a, min(max(r + dr, 0), nrow - 1) * ncol + min(max(c + dc, 0), ncol - 1)] += p
    return P, R, terminal


def q_from_v(P, R, terminal, V, gamma):
    Q = (P * (R + gamma * np.where(terminal, 0.0, V))).sum(axis=2)
    return np.where(terminal[:, None], 0.0, Q)


def policy_evaluation(P, R, terminal, policy, gamma):
    P_pi = np.einsum("sa,sat->st", policy, P) * ~terminal
    V = np.linalg.solve(np.eye(len(terminal)) - gamma * P_pi, np.einsum("sa,sat,sat->s", policy, P, R))
    V[terminal] = 0.0
    return V


def test_the_stand_ins_are_right():
    env = gym.make("FrozenLake-v1", desc=LAKE, is_slippery=True).unwrapped
    P, R, terminal = frozen_lake(LAKE, 2 / 3)
    for s in range(16):
        for a in range(4):
            expected = np.zeros(16)
            for p, s2, r, _ in env.P[s][a]:
                expected[s2] += p
                assert R[s, a, s2] == r
            np.testing.assert_allclose(P[s, a], expected, atol=1e-12)
    policy = np.full((16, 4), 0.25)
    V = policy_evaluation(P, R, terminal, policy, 0.9)
    for _ in range(2000):
        V_loop = (policy * q_from_v(P, R, terminal, V, 0.9)).sum(axis=1)
    np.testing.assert_allclose(V, V_loop, atol=1e-12)


@pytest.fixture
def view() -> GridworldExplorer:
    return gridworld_explorer(frozen_lake, q_from_v, policy_evaluation,
                              {"lake": LAKE, "cliff": {"desc": ["FFFFF", "SHHHG"], "hole_reward": -100.0}})


def test_zero_sweeps_show_zero_values_and_the_stepping_buttons_advance_value_iteration(view):
    assert view.state["error"] is None and view.state["sweeps"] == 0
    assert np.all(view.state["V"] == 0) and view.state["change"] is None
    view.step_button.click()
    assert view.state["sweeps"] == 1 and view.controls["sweeps"].value == 1
    assert view.state["V"][14] == 1.0 and view.state["V"].sum() == 1.0   # only the cell next to the goal
    assert view.state["policy"][14] == 2                                  # ... points right, at the goal
    view.step_button.click()
    assert view.state["sweeps"] == 2 and np.isclose(view.state["V"][10], 0.9) and view.state["change"] == 0.9


def test_converge_reaches_the_optimal_values(view):
    view.converge_button.click()
    sweeps = view.state["sweeps"]
    assert 1 < sweeps < MAX_SWEEPS and view.state["change"] < 1e-8
    assert np.isclose(view.state["V"][0], 0.9 ** 5)           # six moves from the start to the goal
    assert view.state["changed"] == 0
    view.set(sweeps=sweeps - 3)
    assert view.state["V"][0] < 0.9 ** 5 or view.state["change"] > 0


def test_epsilon_lowers_the_value_and_zero_epsilon_recovers_it(view):
    view.set(sweeps=50, epsilon=0.0)
    np.testing.assert_allclose(view.state["V_eps"], view.state["V"], atol=1e-10)
    view.set(epsilon=0.3)
    assert view.state["V_eps"][0] < view.state["V"][0] - 0.05
    assert "ε-greedy policy: V(start)" in view.state["status"]


def test_slip_discount_and_step_reward_change_the_values(view):
    view.set(sweeps=100)
    dry = view.state["V"][0]
    view.set(slip=2 / 3)
    assert view.state["V"][0] < dry                            # the slippery lake is harder
    view.set(slip=0.0, gamma=0.5)
    assert np.isclose(view.state["V"][0], 0.5 ** 5)
    view.set(gamma=1.0)
    assert view.state["V_eps"] is None and np.isclose(view.state["V"][0], 1.0)
    view.set(gamma=0.9, step_reward=-0.5)
    assert view.state["V"][0] < 0


def test_the_cliff_map_uses_its_own_hole_reward(view):
    view.set(map="cliff", sweeps=30, step_reward=-1.0, gamma=0.99)
    V, policy = view.state["V"], view.state["policy"]
    assert view.state["terminal"].sum() == 4
    assert policy[5] == 3                  # from the start, up (right falls in, -100)
    assert V[5] > -10


def test_a_broken_student_function_is_shown_not_raised():
    def broken(desc, slip, step_reward, hole_reward, goal_reward):
        raise IndexError("oops")

    view = gridworld_explorer(broken, q_from_v, policy_evaluation, {"lake": LAKE})
    assert view.state["error"] and "oops" in view.state["error"]
    wrong_shape = gridworld_explorer(lambda *a: (np.zeros((2, 4, 2)),) * 2 + (np.zeros(2, bool),), q_from_v,
                                     policy_evaluation, {"lake": LAKE})
    assert "expected P and R of shape (16, 4, 16)" in wrong_shape.state["error"]
    wrong_shape.converge_button.click()   # no crash either
    assert wrong_shape.state["sweeps"] == 0
