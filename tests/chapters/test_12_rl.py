"""Chapter 12's reference solution agrees with Gymnasium's FrozenLake-v1 table (maps square or not,
slip as Gymnasium's success_rate, any reward schedule), value and policy iteration agree with each
other and with the Bellman equation, the TD functions replay their documented draws, REINFORCE's
gradient agrees with torch autograd, inputs stay unchanged, and the exported API is the agreed one."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.envs.toy_text.frozen_lake import MAPS as GYM_MAPS

from autograder.authoring import read_source

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "12_rl.py"
EXPORTED = {  # the API of chapter 12 that the experiments and the explorer use
    "frozen_lake": ["desc", "slip", "step_reward", "hole_reward", "goal_reward"],
    "policy_evaluation": ["P", "R", "terminal", "policy", "gamma"],
    "q_from_v": ["P", "R", "terminal", "V", "gamma"],
    "value_iteration": ["P", "R", "terminal", "gamma", "tol", "max_sweeps"],
    "policy_iteration": ["P", "R", "terminal", "gamma"],
    "epsilon_greedy": ["q", "epsilon", "rng"],
    "q_learning_update": ["Q", "s", "a", "r", "s_next", "done", "alpha", "gamma"],
    "sarsa_update": ["Q", "s", "a", "r", "s_next", "a_next", "done", "alpha", "gamma"],
    "mdp_step": ["P", "R", "terminal", "s", "a", "rng"],
    "td_episode": ["P", "R", "terminal", "Q", "method", "alpha", "gamma", "epsilon", "rng", "start", "max_steps"],
    "returns_to_go": ["rewards", "gamma"],
    "policy_gradient": ["W", "b", "obs", "actions", "returns", "baseline"],
}
MAPS = [["SFFF", "FHFH", "FFFH", "HFFG"], GYM_MAPS["8x8"], ["SFFHF", "FHFFG", "FFHFF"],
        ["SF", "HF", "FG"], ["SG"]]


@pytest.fixture(scope="module")
def ns() -> dict:
    """The exported cells with the solution markers removed, run with nothing but numpy."""
    cells = [c for c in read_source(SOURCE).cells if c.metadata.get("export")]
    code = "\n\n".join(re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", c.source, flags=re.M) for c in cells)
    namespace: dict = {}
    exec(compile("import numpy as np\n\n" + code, "dllib.ch12_rl", "exec"), namespace)
    return namespace


def gym_arrays(desc, **kwargs):
    env = gym.make("FrozenLake-v1", desc=desc, **kwargs).unwrapped
    S = env.observation_space.n
    P, R = np.zeros((S, 4, S)), np.zeros((S, 4, S))
    for s in range(S):
        for a in range(4):
            for p, s2, r, _ in env.P[s][a]:
                P[s, a, s2] += p
                R[s, a, s2] = r
    return P, R


def bellman(P, R, terminal, V, gamma):
    Q = np.zeros(P.shape[:2])
    for s in range(P.shape[0]):
        for a in range(P.shape[1]):
            if not terminal[s]:
                Q[s, a] = sum(P[s, a, t] * (R[s, a, t] + (0.0 if terminal[t] else gamma * V[t])) for t in range(len(V)))
    return Q


def test_exported_cells_are_self_contained_and_have_the_agreed_signatures(ns):
    for name, params in EXPORTED.items():
        assert name in ns, f"{name} is not exported"
        assert list(inspect.signature(ns[name]).parameters) == params, name


def test_the_experiments_come_after_every_graded_cell():
    cells = read_source(SOURCE).cells
    first = next(i for i, c in enumerate(cells) if "## 10. Dynamic programming against Gymnasium" in c.source)
    assert all(not c.metadata.get("nbgrader") for c in cells[first:])


@pytest.mark.parametrize("desc", MAPS, ids=lambda d: f"{len(d)}x{len(d[0])}")
@pytest.mark.parametrize(("kwargs", "slip"), [({"is_slippery": False}, 0.0), ({"is_slippery": True}, 2 / 3),
                                              ({"is_slippery": True, "success_rate": 0.55}, 0.45)])
def test_frozen_lake_is_gymnasiums_table(ns, desc, kwargs, slip):
    P_gym, R_gym = gym_arrays(desc, reward_schedule=(3.0, -2.0, -0.25), **kwargs)
    P, R, terminal = ns["frozen_lake"](desc, slip, -0.25, -2.0, 3.0)
    np.testing.assert_allclose(P, P_gym, atol=1e-12)
    np.testing.assert_array_equal(np.where(P > 0, R, 0.0), R_gym)
    np.testing.assert_array_equal(terminal, [ch in "HG" for ch in "".join(desc)])
    assert P.dtype == R.dtype == np.float64 and terminal.dtype == bool


def test_the_three_dynamic_programs_agree_on_the_slippery_lakes(ns):
    rng = np.random.default_rng(0)
    for desc in MAPS[:3]:
        P, R, terminal = ns["frozen_lake"](desc, 2 / 3, -0.01, -0.5, 1.0)
        V_vi, pi_vi, _ = ns["value_iteration"](P, R, terminal, 0.95, 1e-12)
        V_pi, pi_pi, evaluations = ns["policy_iteration"](P, R, terminal, 0.95)
        np.testing.assert_allclose(V_vi, V_pi, atol=1e-9)
        np.testing.assert_allclose(V_vi, bellman(P, R, terminal, V_vi, 0.95).max(axis=1), atol=1e-10)
        for pi in (pi_vi, pi_pi):   # both policies are optimal: evaluating them gives V*
            np.testing.assert_allclose(ns["policy_evaluation"](P, R, terminal, np.eye(4)[pi], 0.95), V_pi, atol=1e-9)
        assert evaluations < 20
        random_policy = rng.dirichlet(np.ones(4), size=len(terminal))
        V = ns["policy_evaluation"](P, R, terminal, random_policy, 0.95)
        np.testing.assert_allclose(V, (random_policy * bellman(P, R, terminal, V, 0.95)).sum(axis=1), atol=1e-12)
        assert np.all(V_vi + 1e-12 >= V)


def test_the_slippery_4x4_optimum_is_the_known_success_probability(ns):
    P, R, terminal = ns["frozen_lake"](MAPS[0], 2 / 3)
    V, policy, sweeps = ns["value_iteration"](P, R, terminal, 1.0, 1e-13)
    assert abs(V[0] - 0.8235) < 1e-3 and sweeps > 100
    assert policy[0] == 0          # at the start: "left", pressing into the wall, the safe way down


def test_epsilon_greedy_and_mdp_step_draw_as_documented(ns):
    q = np.array([1.0, 3.0, 3.0, 0.0])
    counts = np.bincount([ns["epsilon_greedy"](q, 0.2, np.random.default_rng(i)) for i in range(4000)], minlength=4)
    np.testing.assert_allclose(counts / 4000, [0.05, 0.45, 0.45, 0.05], atol=0.025)
    rng = np.random.default_rng(3)
    assert ns["epsilon_greedy"](np.array([0.0, 2.0]), 0.0, rng) == 1
    assert rng.random() == np.random.default_rng(3).random(2)[1]   # one draw when one action is best
    P = np.array([[[0.2, 0.3, 0.5]]] * 3)
    draws = [ns["mdp_step"](P, np.zeros((3, 1, 3)), np.zeros(3, bool), 0, 0, np.random.default_rng(i))[0]
             for i in range(4000)]
    np.testing.assert_allclose(np.bincount(draws) / 4000, [0.2, 0.3, 0.5], atol=0.025)


def test_q_learning_finds_the_optimal_values_of_a_small_lake(ns):
    P, R, terminal = ns["frozen_lake"](["SFF", "FHF", "FFG"], 0.0, -0.1)
    V_star, _, _ = ns["value_iteration"](P, R, terminal, 0.9)
    Q_star = bellman(P, R, terminal, V_star, 0.9)
    Q, rng = np.zeros((9, 4)), np.random.default_rng(0)
    for _ in range(400):
        start = int(rng.choice(np.flatnonzero(~terminal)))
        Q, _, _ = ns["td_episode"](P, R, terminal, Q, "q_learning", 0.5, 0.9, 0.5, rng, start, 50)
    live = ~terminal
    np.testing.assert_allclose(Q[live].max(axis=1), V_star[live], atol=1e-3)
    np.testing.assert_allclose(Q[0], Q_star[0], atol=1e-2)


def test_policy_gradient_is_torch_autograd_and_leaves_its_inputs(ns):
    rng = np.random.default_rng(1)
    for N, D, A in [(1, 1, 2), (7, 4, 2), (30, 5, 6)]:
        W, b, obs = rng.normal(size=(D, A)) * 3, rng.normal(size=A), rng.normal(size=(N, D))
        actions, G, baseline = rng.integers(0, A, N), rng.normal(size=N), rng.normal(size=N)
        saved = [x.copy() for x in (W, b, obs, actions, G, baseline)]
        loss, dW, db = ns["policy_gradient"](W, b, obs, actions, G, baseline)
        Wt, bt = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
        logp = torch.log_softmax(torch.tensor(obs) @ Wt + bt, 1)[torch.arange(N), torch.tensor(actions)]
        ref = -(torch.tensor(G - baseline) * logp).mean()
        ref.backward()
        assert isinstance(loss, float) and np.isclose(loss, ref.item(), rtol=1e-12)
        np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-10, atol=1e-14)
        for x, y in zip((W, b, obs, actions, G, baseline), saved, strict=True):
            np.testing.assert_array_equal(x, y)
    # a constant baseline leaves the expected gradient alone: over all actions, weighted by pi, it adds 0
    W, b, obs = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(1, 3))
    pi = np.exp(obs @ W + b)[0] / np.exp(obs @ W + b).sum()
    shift = sum(p * np.asarray(ns["policy_gradient"](W, b, obs, np.array([a]), np.zeros(1), 5.0)[1])
                for a, p in enumerate(pi))
    np.testing.assert_allclose(shift, 0.0, atol=1e-12)


def test_returns_to_go_match_the_definition(ns):
    rewards = np.random.default_rng(2).normal(size=20)
    G = ns["returns_to_go"](rewards, 0.9)
    np.testing.assert_allclose(G, [sum(0.9 ** (k - t) * rewards[k] for k in range(t, 20)) for t in range(20)])
    assert ns["returns_to_go"](np.zeros(0), 0.9).shape == (0,)
