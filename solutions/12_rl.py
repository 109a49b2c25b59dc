# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 12 — Reinforcement learning
#
# Every chapter so far learned from a fixed data set. In **reinforcement learning** an
# **agent** collects its own data: in a **state** $s$ it picks an **action** $a$, the
# **environment** answers with a **reward** $r$ and a next state $s'$, and the agent wants to
# collect as much reward as it can over time. Its choices change what it sees next, rewards
# come late, and nobody says which action would have been right.
#
# The chapter goes from the case where everything is known to the case where nothing is:
# first **dynamic programming** on a small world whose rules we write down (a frozen lake),
# then **temporal-difference learning** (Q-learning and SARSA) that learns the same values
# from experience alone, and last the **policy gradient** (REINFORCE), which trains a policy
# directly and works with continuous states — enough to balance a pole on a cart.
#
# **What you will build** (all in numpy):
#
# | # | functions | idea |
# |---|---|---|
# | 1 | `frozen_lake` | a grid world as arrays: transition probabilities, rewards, terminal states |
# | 2 | `policy_evaluation` | the value of a policy, exactly |
# | 3 | `q_from_v`, `value_iteration` | the Bellman optimality backup, repeated |
# | 4 | `policy_iteration` | evaluate, improve, repeat |
# | 5 | `epsilon_greedy` | explore a little, exploit the rest |
# | 6 | `q_learning_update`, `sarsa_update` | learning from one transition |
# | 7 | `mdp_step`, `td_episode` | one episode of Q-learning or SARSA |
# | 8 | `returns_to_go` | what each step of an episode earned, discounted |
# | 9 | `policy_gradient` | REINFORCE with a baseline for a softmax policy |
#
# On the way: three concept checks and a written answer. The experiments compare Q-learning
# and SARSA on a lake with a cliff, check the dynamic programming against Gymnasium's own
# FrozenLake, and train a softmax policy with REINFORCE on Gymnasium's CartPole. A **gridworld
# explorer** steps value iteration on the maps of the chapter.
#
# **You need**: numpy, softmax and its gradient (chapter 03), Adam (chapter 05).
#
# **Time**: about 4 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong (and,
# when your results match a mistake students often make, which one). The grader runs more
# (hidden) checks: against Gymnasium's `FrozenLake-v1` transition table and PyTorch's autograd,
# on random MDPs and maps that are not square, with the random draws replayed one by one, and
# whether your functions leave their inputs unchanged. Make your code correct in general, not
# just for the visible examples, and do not rename the functions or change their arguments.

# %%
import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
from gymnasium.envs.toy_text.frozen_lake import MAPS

from helpers.testing import (
    assert_answer,
    assert_choice,
    assert_close,
    assert_scalar,
    assert_seeded,
    assert_shape,
    assert_that,
    call,
    unpack,
)

np.set_printoptions(precision=4, suppress=True)
plt.rcParams["figure.figsize"] = (7.0, 3.5)

ACTIONS = ("left", "down", "right", "up")  # Gymnasium's order: action a is ACTIONS[a]
ARROWS = "←↓→↑"
LAKE_4x4 = ["SFFF", "FHFH", "FFFH", "HFFG"]


def random_mdp(rng, S, A, n_terminal=1):
    """A random MDP (for tests): dense transitions, normal rewards, n_terminal terminal states
    whose own rows are *not* absorbing (their value is 0 by definition all the same)."""
    P = rng.dirichlet(np.full(S, 0.5), size=(S, A))
    R = rng.normal(size=(S, A, S))
    terminal = np.zeros(S, dtype=bool)
    terminal[rng.choice(S, n_terminal, replace=False)] = True
    return P, R, terminal


def gym_table(desc, **kwargs):
    """Gymnasium's FrozenLake-v1 transition table env.unwrapped.P as arrays P, R (S, 4, S), R 0 where P is."""
    env = gym.make("FrozenLake-v1", desc=desc, **kwargs).unwrapped
    S = env.observation_space.n
    P, R = np.zeros((S, 4, S)), np.zeros((S, 4, S))
    for s in range(S):
        for a in range(4):
            for p, s2, r, _ in env.P[s][a]:
                P[s, a, s2] += p
                R[s, a, s2] = r
    return P, R


# %% [markdown]
# ## 1. A grid world as arrays
#
# A **Markov decision process** (MDP) has states $s \in \{0, \dots, S-1\}$, actions
# $a \in \{0, \dots, A-1\}$, transition probabilities $P(s' \mid s, a)$ and rewards
# $R(s, a, s')$. "Markov" means that where you go next depends only on where you are and what
# you do, not on how you got there. Some states are **terminal**: the episode ends there.
#
# Our world is Gymnasium's **FrozenLake**: a map of letters, `S` the start, `F` frozen ice,
# `H` a hole (terminal), `G` the goal (terminal). Cell (row, col) is state $s = \text{row}
# \cdot n_\text{col} + \text{col}$. The actions are 0 left, 1 down, 2 right, 3 up; a move into
# the border leaves the agent where it is. The ice is **slippery**: with probability
# $1 - \text{slip}$ the agent moves as intended, otherwise it slides to one of the two
# **perpendicular** directions, $\text{slip}/2$ each (Gymnasium's `is_slippery=True` is
# $\text{slip} = 2/3$). Entering a cell pays its reward: `goal_reward` for G, `hole_reward`
# for H, `step_reward` for S and F. From a terminal state every action stays there, with
# reward 0.
#
# We store the MDP as three arrays: `P[s, a, s']`, `R[s, a, s']` (the reward of the cell $s'$
# entered, 0 from a terminal $s$), and a boolean `terminal[s]`.
#
# *Example*: on `["SF", "HG"]` without slip, `P[0, 2]` (right from the start) is
# $(0, 1, 0, 0)$ and `P[0, 0]` (left, into the border) is $(1, 0, 0, 0)$. With slip $2/3$,
# right from the start goes right, up (border: stays) or down (into the hole), $1/3$ each.

# %% nbgrader="solution" grade_id="frozen_lake" export=true
def frozen_lake(desc, slip=0.0, step_reward=0.0, hole_reward=0.0, goal_reward=1.0):
    """The MDP of a FrozenLake map as arrays.

    Args:
        desc: list of nrow strings of ncol letters each (S start, F frozen, H hole, G goal).
        slip: probability in [0, 1] of sliding to one of the two directions perpendicular to
            the intended one (slip / 2 each); the intended move has probability 1 - slip.
        step_reward, hole_reward, goal_reward: the reward for entering an S or F cell, an H
            cell, a G cell.

    Returns:
        P: float64 (S, 4, S), S = nrow * ncol, state s = row * ncol + col; P[s, a, s'] the
            probability that action a (0 left, 1 down, 2 right, 3 up) leads from s to s'.
            A move into the border stays in place; a terminal state goes to itself.
        R: float64 (S, 4, S): R[s, a, s'] = the reward of the cell s'; all 0 when s is terminal.
        terminal: bool (S,), True on H and G cells.
    """
    ### BEGIN SOLUTION
    cells = np.array([list(row) for row in desc])
    nrow, ncol = cells.shape
    S = nrow * ncol
    cells = cells.ravel()
    terminal = (cells == "H") | (cells == "G")
    entered = np.where(cells == "G", goal_reward, np.where(cells == "H", hole_reward, step_reward))
    rows, cols = np.divmod(np.arange(S), ncol)
    moves = ((0, -1), (1, 0), (0, 1), (-1, 0))     # (drow, dcol) of left, down, right, up
    target = np.stack([np.clip(rows + dr, 0, nrow - 1) * ncol + np.clip(cols + dc, 0, ncol - 1)
                       for dr, dc in moves], axis=1)  # (S, 4): where each move leads, without slipping
    P = np.zeros((S, 4, S))
    states = np.arange(S)
    for a in range(4):
        for direction, prob in (((a - 1) % 4, slip / 2), (a, 1.0 - slip), ((a + 1) % 4, slip / 2)):
            np.add.at(P, (states, a, target[:, direction]), prob)
    ends = np.flatnonzero(terminal)
    P[ends] = 0.0
    P[ends[:, None], np.arange(4), ends[:, None]] = 1.0
    R = np.repeat(np.tile(entered, (4, 1))[None], S, axis=0)
    R[ends] = 0.0
    return P, R, terminal
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_frozen_lake" points=3
_P, _R, _term = unpack(call(frozen_lake, ["SF", "HG"]), 3, "frozen_lake")
assert_shape(_P, (4, 4, 4), name="P of frozen_lake(['SF', 'HG'])")
assert_shape(_R, (4, 4, 4), name="R of frozen_lake(['SF', 'HG'])")
assert_close(_term, [False, False, True, True], name="terminal of frozen_lake(['SF', 'HG'])")
assert_close(_P[0, 2], [0, 1, 0, 0], name="P[0, 2] of frozen_lake(['SF', 'HG']) (right from the start)")
assert_close(_P[0, 0], [1, 0, 0, 0], name="P[0, 0] of frozen_lake(['SF', 'HG']) (left into the border)")
assert_close(_P[3, 1], [0, 0, 0, 1], name="P[3, 1] of frozen_lake(['SF', 'HG']) (a terminal state stays)")
assert_close(_R[0, 1, 2], 0.0, name="R[0, 1, 2] (entering the hole, hole_reward=0)")
assert_close(_R[1, 1, 3], 1.0, name="R[1, 1, 3] (entering the goal, goal_reward=1)")
_P, _R, _term = unpack(call(frozen_lake, ["SF", "HG"], 2 / 3, -0.1, -1.0, 5.0), 3, "frozen_lake")
assert_close(_P[0, 2], [1 / 3, 1 / 3, 1 / 3, 0], name="P[0, 2] of frozen_lake(['SF', 'HG'], slip=2/3)")
assert_close(_P.sum(axis=2), np.ones((4, 4)), name="frozen_lake(slip=2/3): every P[s, a] sums to 1")
assert_close(_R[0, 2], [-0.1, -0.1, -1.0, 5.0], name="R[0, 2] of frozen_lake(['SF', 'HG'], 2/3, -0.1, -1, 5)")
assert_close(_R[2], np.zeros((4, 4)), name="R[2] (rewards from a terminal state are 0)")
### BEGIN HIDDEN TESTS
_maps = [LAKE_4x4, ["SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF", "FFFHFFFF", "FHHFFFHF", "FHFFHFHF", "FFFHFFFG"],
         ["SFFHF", "FHFFG", "FFHFF"], ["SF", "FF", "HF", "FG"], ["SHG"]]
for _desc in _maps:
    for _kw, _slip in [({"is_slippery": False}, 0.0), ({"is_slippery": True}, 2 / 3),
                       ({"is_slippery": True, "success_rate": 0.7}, 0.3)]:
        _rewards = (2.0, -3.0, -0.5)
        _Pg, _Rg = gym_table(_desc, reward_schedule=_rewards, **_kw)
        _tg = np.isin(np.array([list(_row) for _row in _desc]).ravel(), ["H", "G"])
        _P, _R, _term = unpack(call(frozen_lake, _desc, _slip, _rewards[2], _rewards[1], _rewards[0]), 3, "frozen_lake")
        _name = f"frozen_lake({_desc}, slip={_slip:.3g}, step_reward=-0.5, hole_reward=-3, goal_reward=2)"
        assert_shape(_P, _Pg.shape, name=f"P of {_name}")
        assert_close(_term, _tg, name=f"terminal of {_name}")
        assert_close(_P, _Pg, rtol=1e-12, atol=1e-12, name=f"P of {_name}, against Gymnasium's env.unwrapped.P")
        assert_close(np.where(_Pg > 0, _R, 0.0), _Rg, rtol=0, atol=1e-12, name=f"R of {_name} where P > 0, against "
                     "Gymnasium's env.unwrapped.P")
        _cells = np.array([list(r) for r in _desc]).ravel()
        _ref_R = np.where(_cells == "G", 2.0, np.where(_cells == "H", -3.0, -0.5))[None, None] * ~_tg[:, None, None]
        assert_close(_R, np.broadcast_to(_ref_R, _R.shape), rtol=0, atol=1e-12, name=f"R of {_name} (every s')")
        assert_that(np.asarray(_term).dtype == bool, f"terminal must be a bool array, got {np.asarray(_term).dtype}")
# a slip that Gymnasium cannot express: all of it sideways
_P, _, _ = call(frozen_lake, ["FFF", "FSF", "FFG"], 1.0)
assert_close(_P[4, 2], [0, 0.5, 0, 0, 0, 0, 0, 0.5, 0], name="frozen_lake(3x3, slip=1): P[4, 2] (right from the "
             "centre slides up or down, 1/2 each)")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The value of a policy
#
# A **policy** $\pi(a \mid s)$ says how the agent acts; here an array `policy[s, a]` whose
# rows sum to 1. Its **value** $V^\pi(s)$ is the expected **discounted return**
# $\mathbb{E}[r_1 + \gamma r_2 + \gamma^2 r_3 + \dots]$ when starting in $s$ and following
# $\pi$; the **discount** $\gamma \in [0, 1)$ makes a reward now worth more than the same
# reward later. A terminal state has value 0: nothing comes after it. The values satisfy the
# **Bellman equation**
#
# $$V^\pi(s) = \sum_a \pi(a \mid s) \sum_{s'} P(s' \mid s, a)\,\big[R(s, a, s') +
#   \gamma\,(1 - \text{terminal}[s'])\,V^\pi(s')\big] \quad \text{for non-terminal } s,$$
#
# $S$ linear equations in $S$ unknowns. In matrix form $V = r_\pi + \gamma P_\pi V$, with
# $r_\pi[s]$ the expected reward of one step and $P_\pi[s, s']$ the probability of going from
# $s$ to a non-terminal $s'$ in one step; so $V = (I - \gamma P_\pi)^{-1} r_\pi$, and
# `np.linalg.solve` finds it (or iterate the equation until it stops changing). Compute $r_\pi$
# and $P_\pi$ with `np.einsum`. Never bootstrap from a terminal $s'$ — even when its row of
# `P` is not absorbing, as in the random MDPs of the tests.

# %% nbgrader="solution" grade_id="policy_evaluation" export=true
def policy_evaluation(P, R, terminal, policy, gamma):
    """The value of a policy, solving the Bellman equation.

    Args:
        P: float (S, A, S) transition probabilities; R: float (S, A, S) rewards; terminal: bool (S,).
        policy: float (S, A), policy[s, a] = pi(a | s), rows summing to 1.
        gamma: the discount, in [0, 1).

    Returns:
        V: float64 (S,), V[s] = sum_a pi(a|s) sum_s' P[s, a, s'] (R[s, a, s'] + gamma (1 - terminal[s']) V[s'])
        for non-terminal s, and V[s] = 0 for terminal s. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    r_pi = np.einsum("sa,sat,sat->s", policy, P, R)
    P_pi = np.einsum("sa,sat->st", policy, P) * ~terminal   # no bootstrapping from terminal states
    V = np.linalg.solve(np.eye(len(terminal)) - gamma * P_pi, r_pi)
    V[terminal] = 0.0
    return V
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_policy_evaluation" points=2
# a corridor 0 -> 1 -> 2 (terminal), reward 1 for entering 2, one action
_P = np.zeros((3, 1, 3))
_P[0, 0, 1] = _P[1, 0, 2] = _P[2, 0, 2] = 1.0
_R = np.zeros((3, 1, 3))
_R[:, 0, 2] = 1.0
_V = call(policy_evaluation, _P, _R, np.array([False, False, True]), np.ones((3, 1)), 0.9)
assert_shape(_V, (3,), name="policy_evaluation(corridor 0 -> 1 -> 2, gamma=0.9)")
assert_close(_V, [0.9, 1.0, 0.0], name="policy_evaluation(corridor 0 -> 1 -> 2, reward 1 entering 2, gamma=0.9)")
_rng = np.random.default_rng(1201)
_P, _R, _term = random_mdp(_rng, 5, 2)
_pi = _rng.dirichlet(np.ones(2), size=5)
assert_close(call(policy_evaluation, _P, _R, _term, _pi, 0.8),
             [0.172482477206, 0.636379356433, 0.698569975927, 0.252255963099, 0.0], rtol=1e-9, atol=1e-11,
             name="policy_evaluation(a random MDP with 5 states, a random policy, gamma=0.8)")
### BEGIN HIDDEN TESTS
def _backup(P, R, terminal, V, gamma):
    Q = (P * (R + gamma * np.where(terminal, 0.0, V))).sum(axis=2)
    return np.where(terminal[:, None], 0.0, Q)


_rng = np.random.default_rng(1202)
for _S, _A, _nt, _gamma in [(1, 1, 1, 0.5), (2, 3, 1, 0.0), (6, 2, 2, 0.95), (9, 4, 3, 0.5), (4, 1, 1, 0.99)]:
    _P, _R, _term = random_mdp(_rng, _S, _A, _nt)
    _pi = _rng.dirichlet(np.ones(_A), size=_S)
    _ref = np.zeros(_S)
    for _ in range(5000):
        _ref = (_pi * _backup(_P, _R, _term, _ref, _gamma)).sum(axis=1)
    _V = call(policy_evaluation, _P, _R, _term, _pi, _gamma)
    assert_close(_V, _ref, rtol=1e-7, atol=1e-9, name=f"policy_evaluation(random MDP, S={_S}, A={_A}, "
                 f"{_nt} terminal, gamma={_gamma})")
# a deterministic policy on Gymnasium's slippery 4x4 lake: always down
_Pg, _Rg = gym_table(LAKE_4x4, is_slippery=True)
_tg = np.isin(np.array([list(_row) for _row in LAKE_4x4]).ravel(), ["H", "G"])
_pi = np.zeros((16, 4))
_pi[:, 1] = 1.0
_ref = np.zeros(16)
for _ in range(5000):
    _ref = _backup(_Pg, _Rg, _tg, _ref, 0.9)[:, 1]
assert_close(call(policy_evaluation, _Pg, _Rg, _tg, _pi, 0.9), _ref, rtol=1e-7, atol=1e-10,
             name="policy_evaluation(Gymnasium's slippery 4x4 lake, always down, gamma=0.9)")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Value iteration
#
# The best possible values $V^*(s) = \max_\pi V^\pi(s)$ satisfy the **Bellman optimality
# equation**: act well now, then act optimally,
#
# $$Q^*(s, a) = \sum_{s'} P(s' \mid s, a)\,\big[R(s, a, s') + \gamma\,(1 - \text{terminal}[s'])\,V^*(s')\big],
#   \qquad V^*(s) = \max_a Q^*(s, a).$$
#
# The max makes it nonlinear, so we iterate instead of solving. `q_from_v` computes the
# action values $Q$ from any $V$ (rows of terminal states are 0). **Value iteration**
# starts from $V = 0$ and repeats the backup $V \leftarrow \max_a Q(V)$ for **all states at
# once** (a sweep); it stops after the first sweep in which no value changed by `tol` or more.
# For $\gamma < 1$ each sweep shrinks the error by a factor $\gamma$ at least. A **greedy**
# policy picks $\arg\max_a Q(s, a)$ — and the greedy policy of $V^*$ is optimal.
#
# *Example*: on the corridor of the test above (reward 1 for entering state 2, $\gamma =
# 0.9$) the sweeps give $V = (0, 1, 0)$, then $(0.9, 1, 0)$, then the same again: 3 sweeps.

# %% nbgrader="solution" grade_id="value_iteration" export=true
def q_from_v(P, R, terminal, V, gamma):
    """Action values from state values, one Bellman backup.

    Args:
        P, R: float (S, A, S); terminal: bool (S,); V: float (S,); gamma: the discount in [0, 1].

    Returns:
        Q: float64 (S, A), Q[s, a] = sum_s' P[s, a, s'] (R[s, a, s'] + gamma (1 - terminal[s']) V[s']),
        and Q[s] = 0 for terminal s. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    Q = np.einsum("sat,sat->sa", P, R) + gamma * P @ np.where(terminal, 0.0, V)
    return np.where(terminal[:, None], 0.0, Q)
    ### END SOLUTION


def value_iteration(P, R, terminal, gamma, tol=1e-10, max_sweeps=10_000):
    """Value iteration from V = 0 with synchronous sweeps V <- max_a q_from_v(V).

    Returns:
        V: float64 (S,), the values after the last sweep; the first sweep whose largest change
            max |V_new - V| is below tol is the last (or sweep max_sweeps).
        policy: int64 (S,), greedy with respect to V: argmax_a of q_from_v(V), the lowest action on ties.
        sweeps: int, the number of sweeps done.
        The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    V, sweeps = np.zeros(len(terminal)), 0
    while sweeps < max_sweeps:
        V_new = q_from_v(P, R, terminal, V, gamma).max(axis=1)
        sweeps += 1
        converged = np.max(np.abs(V_new - V)) < tol
        V = V_new
        if converged:
            break
    return V, np.argmax(q_from_v(P, R, terminal, V, gamma), axis=1), sweeps
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_value_iteration" points=3
_P = np.zeros((3, 1, 3))
_P[0, 0, 1] = _P[1, 0, 2] = _P[2, 0, 2] = 1.0
_R = np.zeros((3, 1, 3))
_R[:, 0, 2] = 1.0
_term = np.array([False, False, True])
assert_close(call(q_from_v, _P, _R, _term, np.array([0.0, 2.0, 7.0]), 0.5), [[1.0], [1.0], [0.0]],
             name="q_from_v(corridor, V=[0, 2, 7], gamma=0.5) (nothing is bootstrapped from the terminal state 2)")
_V, _pi, _sweeps = unpack(call(value_iteration, _P, _R, _term, 0.9), 3, "value_iteration")
assert_close(_V, [0.9, 1.0, 0.0], name="V of value_iteration(corridor, gamma=0.9)")
assert_that(int(_sweeps) == 3, f"value_iteration(corridor, gamma=0.9): expected 3 sweeps, got {_sweeps}")
# two actions in state 0: 0 stays (reward 0.1 each time), 1 goes to the terminal state 1 with reward 1
_P = np.zeros((2, 2, 2))
_P[0, 0, 0] = _P[0, 1, 1] = _P[1, :, 1] = 1.0
_R = np.zeros((2, 2, 2))
_R[0, 0, 0], _R[0, 1, 1] = 0.1, 1.0
for _gamma, _best, _v in [(0.5, 1, 1.0), (0.95, 0, 2.0)]:
    _V, _pi, _ = call(value_iteration, _P, _R, np.array([False, True]), _gamma)
    assert_close(_V, [_v, 0.0], rtol=1e-8, name=f"V of value_iteration(stay for 0.1 or leave for 1, gamma={_gamma})")
    assert_that(int(_pi[0]) == _best, f"value_iteration(stay for 0.1 or leave for 1, gamma={_gamma}): the best action "
                f"in state 0 is {_best} ({['stay', 'leave'][_best]}), got {_pi[0]}")
### BEGIN HIDDEN TESTS
def _backup(P, R, terminal, V, gamma):
    Q = (P * (R + gamma * np.where(terminal, 0.0, V))).sum(axis=2)
    return np.where(terminal[:, None], 0.0, Q)


_rng = np.random.default_rng(1203)
for _S, _A, _nt, _gamma in [(1, 2, 1, 0.9), (5, 3, 1, 0.0), (7, 2, 2, 0.9), (4, 4, 1, 0.5)]:
    _P, _R, _term = random_mdp(_rng, _S, _A, _nt)
    _V0 = _rng.normal(size=_S)
    assert_close(call(q_from_v, _P, _R, _term, _V0, _gamma), _backup(_P, _R, _term, _V0, _gamma), rtol=1e-10,
                 atol=1e-12, name=f"q_from_v(random MDP S={_S}, A={_A}, random V, gamma={_gamma})")
    _ref, _n = np.zeros(_S), 0
    while True:
        _new = _backup(_P, _R, _term, _ref, _gamma).max(axis=1)
        _n, _change, _ref = _n + 1, np.max(np.abs(_new - _ref)), _new
        if _change < 1e-10:
            break
    _V, _pi, _sweeps = unpack(call(value_iteration, _P, _R, _term, _gamma), 3, "value_iteration")
    _name = f"value_iteration(random MDP S={_S}, A={_A}, gamma={_gamma})"
    assert_close(_V, _ref, rtol=1e-8, atol=1e-9, name=f"V of {_name}")
    assert_that(abs(int(_sweeps) - _n) <= 1, f"{_name}: expected {_n} sweeps, got {_sweeps}")
    _Q = _backup(_P, _R, _term, _ref, _gamma)
    assert_close(_Q[np.arange(_S), np.asarray(_pi)], _Q.max(axis=1), rtol=1e-8, atol=1e-9,
                 name=f"{_name}: Q of the returned policy's actions (must be the largest)")
# Gymnasium's slippery 4x4 and 8x8 lakes, undiscounted: V[start] is the best probability of reaching the goal
for _map, _known in [("4x4", 0.8235), ("8x8", 1.0)]:
    _desc = MAPS[_map]
    _Pg, _Rg = gym_table(_desc, is_slippery=True)
    _tg = np.isin(np.array([list(_row) for _row in _desc]).ravel(), ["H", "G"])
    _V, _pi, _ = call(value_iteration, _Pg, _Rg, _tg, 1.0, 1e-12)
    assert_close(_V[0], _known, rtol=0, atol=2e-3, name=f"V[start] of value_iteration(Gymnasium's slippery {_map} "
                 "lake, gamma=1): the best probability of reaching the goal")
    _Q = _backup(_Pg, _Rg, _tg, np.asarray(_V), 1.0)
    assert_close(_Q[np.arange(len(_tg)), np.asarray(_pi)], _Q.max(axis=1), rtol=1e-8, atol=1e-9,
                 name=f"value_iteration(slippery {_map} lake): Q of the greedy actions")
# ties go to the lowest action
_P = np.ones((2, 3, 2)) / 2
_V, _pi, _ = call(value_iteration, _P, np.zeros((2, 3, 2)), np.array([False, False]), 0.9)
assert_close(_pi, [0, 0], name="value_iteration(every action the same): the policy (ties go to the lowest action)")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 1.** A lake without slip, reward 1 only for entering the goal, $\gamma =
# 0.9$. The shortest path from a state $s$ to the goal takes 5 moves. What is $V^*(s)$? Set
# `q1_value` to the number (four decimals are enough).

# %% nbgrader="solution" grade_id="q1_value"
# q1_value = ...
### BEGIN SOLUTION
q1_value = 0.9 ** 4
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_value" points=1
assert_that("q1_value" in globals(), "q1_value is not set yet: run its cell after answering")
assert_scalar(q1_value, name="q1_value")
### BEGIN HIDDEN TESTS
assert_answer(q1_value, 0.6561, name="q1_value", rtol=1e-3)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Policy iteration
#
# **Policy iteration** alternates the two steps: **evaluate** the current deterministic
# policy exactly (your `policy_evaluation`, with one-hot rows), then **improve** it by
# acting greedily on the $Q$ of those values. Each improvement makes no state worse, and
# there are only finitely many deterministic policies, so it stops — usually after a handful
# of rounds, far fewer than value iteration's sweeps (but each round solves a linear system).
#
# Start from the policy that always takes action 0. In the improvement, keep a state's
# current action when its $Q$ is within $10^{-12}$ of the best one (otherwise two equally good
# actions could swap forever), and take the lowest best action otherwise; stop when no action
# changed. Count the evaluations.

# %% nbgrader="solution" grade_id="policy_iteration" export=true
def policy_iteration(P, R, terminal, gamma):
    """Policy iteration from the policy that always takes action 0.

    Args:
        P, R: float (S, A, S); terminal: bool (S,); gamma: the discount in [0, 1).

    Returns:
        V: float64 (S,), the value of the final policy (policy_evaluation).
        policy: int64 (S,), the final deterministic policy: each round, a state keeps its action if
            its Q (q_from_v of the current values) is within 1e-12 of max_a Q, else takes the lowest
            argmax; the loop stops when no action changes.
        evaluations: int, the number of policy evaluations done (1 if the first policy is already stable).
        The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    S, A = P.shape[:2]
    policy = np.zeros(S, dtype=np.int64)
    evaluations = 0
    while True:
        V = policy_evaluation(P, R, terminal, np.eye(A)[policy], gamma)
        evaluations += 1
        Q = q_from_v(P, R, terminal, V, gamma)
        keep = Q[np.arange(S), policy] >= Q.max(axis=1) - 1e-12
        improved = np.where(keep, policy, np.argmax(Q, axis=1))
        if np.array_equal(improved, policy):
            return V, policy, evaluations
        policy = improved
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_policy_iteration" points=2
_P = np.zeros((2, 2, 2))
_P[0, 0, 0] = _P[0, 1, 1] = _P[1, :, 1] = 1.0
_R = np.zeros((2, 2, 2))
_R[0, 0, 0], _R[0, 1, 1] = 0.1, 1.0
_V, _pi, _n = unpack(call(policy_iteration, _P, _R, np.array([False, True]), 0.5), 3, "policy_iteration")
assert_close(_V, [1.0, 0.0], rtol=1e-8, name="V of policy_iteration(stay for 0.1 or leave for 1, gamma=0.5)")
assert_close(_pi, [1, 0], name="policy of policy_iteration(stay for 0.1 or leave for 1, gamma=0.5)")
assert_that(int(_n) == 2, f"policy_iteration(stay or leave, gamma=0.5): expected 2 evaluations (stay, then leave), "
            f"got {_n}")
_rng = np.random.default_rng(1204)
_P, _R, _term = random_mdp(_rng, 6, 3)
_V, _pi, _ = call(policy_iteration, _P, _R, _term, 0.9)
assert_close(_V, [3.050400359739, 2.291813212855, 2.755236676821, 3.252330571579, 0.0, 2.784161688369], rtol=1e-9,
             atol=1e-11, name="V of policy_iteration(random MDP, gamma=0.9) (must be optimal)")
### BEGIN HIDDEN TESTS
def _backup(P, R, terminal, V, gamma):
    Q = (P * (R + gamma * np.where(terminal, 0.0, V))).sum(axis=2)
    return np.where(terminal[:, None], 0.0, Q)


for _S, _A, _nt, _gamma in [(1, 3, 1, 0.9), (8, 2, 2, 0.95), (5, 4, 1, 0.3), (3, 1, 1, 0.5)]:
    _P, _R, _term = random_mdp(_rng, _S, _A, _nt)
    _ref = np.zeros(_S)
    for _ in range(5000):
        _ref = _backup(_P, _R, _term, _ref, _gamma).max(axis=1)
    _V, _pi, _n = unpack(call(policy_iteration, _P, _R, _term, _gamma), 3, "policy_iteration")
    _name = f"policy_iteration(random MDP S={_S}, A={_A}, gamma={_gamma})"
    assert_close(_V, _ref, rtol=1e-7, atol=1e-9, name=f"V of {_name}")
    _Q = _backup(_P, _R, _term, _ref, _gamma)
    assert_close(_Q[np.arange(_S), np.asarray(_pi)], _Q.max(axis=1), rtol=1e-7, atol=1e-9,
                 name=f"{_name}: Q of the policy's actions (must be the largest)")
# on Gymnasium's lakes: the same values as value iteration, and the stated start and tie rule
for _desc, _kw, _gamma in [(LAKE_4x4, {"is_slippery": True}, 0.99), (LAKE_4x4, {"is_slippery": False}, 0.9),
                           (["SFFHF", "FHFFG", "FFHFF"], {"is_slippery": True, "success_rate": 0.8}, 0.95)]:
    _Pg, _Rg = gym_table(_desc, **_kw)
    _tg = np.isin(np.array([list(_row) for _row in _desc]).ravel(), ["H", "G"])
    _S = len(_tg)
    _V, _pi, _n = call(policy_iteration, _Pg, _Rg, _tg, _gamma)
    _name = f"policy_iteration(Gymnasium lake {_desc}, {_kw}, gamma={_gamma})"
    assert_close(_V, _backup(_Pg, _Rg, _tg, np.asarray(_V, dtype=float), _gamma).max(axis=1), rtol=1e-9, atol=1e-10,
                 name=f"V of {_name} (it must satisfy the Bellman optimality equation)")
    _pol, _count = np.zeros(_S, dtype=int), 0
    while True:   # the stated algorithm, each policy evaluated by a linear solve
        _Vp = np.linalg.solve(np.eye(_S) - _gamma * _Pg[np.arange(_S), _pol] * ~_tg,
                              (_Pg * _Rg).sum(axis=2)[np.arange(_S), _pol]) * ~_tg
        _count += 1
        _Q = _backup(_Pg, _Rg, _tg, _Vp, _gamma)
        _new = np.where(_Q[np.arange(_S), _pol] >= _Q.max(axis=1) - 1e-9, _pol, _Q.argmax(axis=1))
        if np.array_equal(_new, _pol):
            break
        _pol = _new
    assert_close(_pi, _pol, rtol=0, atol=0, name=f"policy of {_name} (start from action 0, keep an action that is "
                 "as good as the best)")
    assert_that(int(_n) == _count, f"{_name}: expected {_count} evaluations, got {_n}")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Learning from experience: ε-greedy exploration
#
# Dynamic programming needs $P$ and $R$. Usually the agent does not know them: it can only
# act and watch what happens. It then learns **action values** $Q(s, a)$ from experience, and
# must balance **exploiting** what it knows (the action with the best $Q$) against
# **exploring** actions it knows little about. The simplest rule is **ε-greedy**: with
# probability $\varepsilon$ act at random, otherwise greedily.
#
# Draw in this order, from the given `rng` only: one `u = rng.random()`; if `u < epsilon`,
# return `rng.integers(A)` (any of the $A$ actions, the greedy one included). Otherwise take
# the actions whose $Q$ equals the maximum; if there is one, return it without drawing; if
# there are several (at the start, when $Q$ is all zeros, every action ties), pick one with
# `best[rng.integers(len(best))]` — always picking the first would never try the others.

# %% nbgrader="solution" grade_id="epsilon_greedy" export=true
def epsilon_greedy(q, epsilon, rng):
    """An epsilon-greedy action.

    Args:
        q: float (A,), the action values of one state.
        epsilon: the probability of a random action, in [0, 1].
        rng: a numpy Generator: u = rng.random(); if u < epsilon: rng.integers(A); else, when several
            actions share the largest q: best[rng.integers(len(best))], best the sorted maximizers.

    Returns:
        a Python int in [0, A). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    if rng.random() < epsilon:
        return int(rng.integers(len(q)))
    best = np.flatnonzero(q == np.max(q))
    return int(best[rng.integers(len(best))]) if len(best) > 1 else int(best[0])
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_epsilon_greedy" points=2
_a = call(epsilon_greedy, np.array([0.0, 2.0, 1.0]), 0.0, np.random.default_rng(0))
assert_that(isinstance(_a, int) and _a == 1, f"epsilon_greedy([0, 2, 1], epsilon=0): expected the greedy action 1 "
            f"(a Python int), got {_a!r}")
assert_seeded(lambda rng: [call(epsilon_greedy, np.array([0.0, 1.0, 0.5]), 0.5, rng) for _ in range(20)],
              "epsilon_greedy(epsilon=0.5), 20 calls")
_draws = [call(epsilon_greedy, np.array([0.0, 1.0, 0.5, 1.0]), 0.2, np.random.default_rng(_i)) for _i in range(300)]
_freq = np.bincount(_draws, minlength=4) / 300
assert_close(_freq, [0.05, 0.45, 0.05, 0.45], rtol=0, atol=0.08,
             name="epsilon_greedy([0, 1, 0.5, 1], epsilon=0.2): frequencies of 300 actions (ties split evenly)")
### BEGIN HIDDEN TESTS
for _seed, _q, _eps in [(1, [0.0, 0.0, 0.0, 0.0], 0.1), (2, [3.0, -1.0], 0.5), (3, [1.0, 5.0, 5.0], 0.0),
                        (4, [2.0], 0.3), (5, [-1.0, -2.0, -1.0, -3.0, -1.0], 0.9), (6, [0.5, 0.1, 0.2], 1.0)]:
    _rng, _ref_rng = np.random.default_rng(_seed), np.random.default_rng(_seed)
    _q = np.array(_q)
    _got, _ref = [], []
    for _ in range(25):
        _got.append(call(epsilon_greedy, _q, _eps, _rng))
        if _ref_rng.random() < _eps:
            _ref.append(int(_ref_rng.integers(len(_q))))
        else:
            _best = np.flatnonzero(_q == _q.max())
            _ref.append(int(_best[_ref_rng.integers(len(_best))]) if len(_best) > 1 else int(_best[0]))
    assert_close(_got, _ref, rtol=0, atol=0, name=f"epsilon_greedy(q={_q.tolist()}, epsilon={_eps}): 25 calls with "
                 f"default_rng({_seed}), the draws replayed in the stated order")
    assert_that(all(isinstance(_a, int) for _a in _got), "epsilon_greedy must return Python ints")
    assert_that(_rng.random() == _ref_rng.random(), f"epsilon_greedy(q={_q.tolist()}, epsilon={_eps}): drew a "
                "different number of random numbers than stated")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Q-learning and SARSA
#
# Both learn $Q$ from one transition $(s, a, r, s')$ at a time, moving $Q(s, a)$ a step of
# size $\alpha$ towards a **target** that uses the current estimate at $s'$
# (**bootstrapping**, the "temporal difference"):
#
# $$Q(s, a) \leftarrow Q(s, a) + \alpha\,\big[\text{target} - Q(s, a)\big].$$
#
# - **Q-learning**: target $= r + \gamma \max_{a'} Q(s', a')$: the value of acting greedily
#   from $s'$ on, whatever the agent will really do (**off-policy**: it learns $Q^*$).
# - **SARSA** (for $s, a, r, s', a'$): target $= r + \gamma\, Q(s', a')$ with $a'$ the action
#   the agent really takes next (**on-policy**: it learns the value of its own ε-greedy
#   behaviour, exploration included).
#
# When $s'$ is terminal (`done`), nothing follows: the target is just $r$. Return a **new**
# array and leave `Q` unchanged.

# %% nbgrader="solution" grade_id="td_updates" export=true
def q_learning_update(Q, s, a, r, s_next, done, alpha, gamma):
    """One Q-learning update.

    Args:
        Q: float (S, A) action values; s, a: ints, the state and the action taken; r: float, the reward;
        s_next: int, the next state; done: bool, whether s_next is terminal; alpha: the step size; gamma: the discount.

    Returns:
        float64 (S, A): a copy of Q with Q[s, a] moved by alpha towards r + gamma max_a' Q[s_next, a']
        (towards r alone when done). Q stays unchanged.
    """
    ### BEGIN SOLUTION
    target = r if done else r + gamma * np.max(Q[s_next])
    Q = Q.copy()
    Q[s, a] += alpha * (target - Q[s, a])
    return Q
    ### END SOLUTION


def sarsa_update(Q, s, a, r, s_next, a_next, done, alpha, gamma):
    """One SARSA update: as q_learning_update, with the target r + gamma Q[s_next, a_next] (r alone when done).

    Returns:
        float64 (S, A), a new array; Q stays unchanged.
    """
    ### BEGIN SOLUTION
    target = r if done else r + gamma * Q[s_next, a_next]
    Q = Q.copy()
    Q[s, a] += alpha * (target - Q[s, a])
    return Q
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_td_updates" points=3
_Q = np.array([[0.0, 1.0], [2.0, 4.0], [3.0, -1.0]])
_new = call(q_learning_update, _Q, 0, 1, 1.0, 1, False, 0.5, 0.9)
assert_close(_new, [[0.0, 1.0 + 0.5 * (1.0 + 0.9 * 4.0 - 1.0)], [2.0, 4.0], [3.0, -1.0]],
             name="q_learning_update(Q, s=0, a=1, r=1, s_next=1, done=False, alpha=0.5, gamma=0.9)")
_new = call(sarsa_update, _Q, 0, 1, 1.0, 1, 0, False, 0.5, 0.9)
assert_close(_new, [[0.0, 1.0 + 0.5 * (1.0 + 0.9 * 2.0 - 1.0)], [2.0, 4.0], [3.0, -1.0]],
             name="sarsa_update(Q, s=0, a=1, r=1, s_next=1, a_next=0, done=False, alpha=0.5, gamma=0.9)")
_new = call(q_learning_update, _Q, 2, 0, -1.0, 1, True, 0.1, 0.9)
assert_close(_new[2, 0], 3.0 + 0.1 * (-1.0 - 3.0), name="q_learning_update(..., done=True)[2, 0] (the target is r alone)")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(1206)
for _S, _A in [(1, 1), (3, 2), (6, 4), (5, 1)]:
    for _ in range(4):
        _Q = _rng.normal(size=(_S, _A))
        _s, _a, _s2, _a2 = (int(_rng.integers(_S)), int(_rng.integers(_A)), int(_rng.integers(_S)),
                            int(_rng.integers(_A)))
        _r, _alpha, _gamma, _done = float(_rng.normal()), float(_rng.uniform(0.05, 1)), float(_rng.uniform(0.3, 1)), \
            bool(_rng.random() < 0.3)
        for _fn, _args, _boot in [(q_learning_update, (_Q, _s, _a, _r, _s2, _done, _alpha, _gamma), _Q[_s2].max()),
                                  (sarsa_update, (_Q, _s, _a, _r, _s2, _a2, _done, _alpha, _gamma), _Q[_s2, _a2])]:
            _ref = _Q.copy()
            _ref[_s, _a] += _alpha * (_r + (0.0 if _done else _gamma * _boot) - _Q[_s, _a])
            assert_close(call(_fn, *_args), _ref, rtol=1e-12, atol=1e-14,
                         name=f"{_fn.__name__}(random Q {_S}x{_A}, s={_s}, a={_a}, s_next={_s2}, "
                         + (f"a_next={_a2}, " if _fn is sarsa_update else "")
                         + f"done={_done}, alpha={_alpha:.2f}, gamma={_gamma:.2f})")
### END HIDDEN TESTS

# %% [markdown]
# ## 7. An episode of TD learning
#
# To learn we need an environment to act in. `mdp_step` plays one transition of an MDP given
# as arrays: draw $s'$ from $P(\cdot \mid s, a)$ with **one** `rng.random()` and inverse
# transform sampling (the first $s'$ whose cumulative probability exceeds $u$, as
# `sample_ngram` did in chapter 08), and return $(s', R[s, a, s'], \text{terminal}[s'])$.
#
# `td_episode` runs one episode from `start` with ε-greedy actions and updates $Q$ after every
# step, in this order (the textbook order of each method):
#
# 1. before the loop: $a$ = `epsilon_greedy(Q[start], ...)`;
# 2. each step: $(s', r, \text{done})$ = `mdp_step(..., s, a, rng)`;
# 3. **SARSA**: unless done, $a'$ = `epsilon_greedy(Q[s'], ...)` first, then the update with $a'$
#    (when done, pass $a' = 0$: it is not used). **Q-learning**: the update first, then, unless
#    done, $a'$ = `epsilon_greedy(Q[s'], ...)` with the updated $Q$;
# 4. stop when done or after `max_steps` steps; otherwise $s, a \leftarrow s', a'$.
#
# It returns the new $Q$, the sum of the rewards (undiscounted) and the number of steps.

# %% nbgrader="solution" grade_id="td_episode" export=true
def mdp_step(P, R, terminal, s, a, rng):
    """One transition of an MDP given as arrays.

    Args:
        P, R: float (S, A, S); terminal: bool (S,); s, a: ints; rng: a numpy Generator, one rng.random().

    Returns:
        (s_next, r, done): s_next the first s' with P[s, a, 0] + ... + P[s, a, s'] > u for u = rng.random()
        (a Python int), r = R[s, a, s_next] (a Python float), done = terminal[s_next] (a Python bool).
    """
    ### BEGIN SOLUTION
    cumulative = np.cumsum(P[s, a])
    u = rng.random() * cumulative[-1]
    s_next = min(int(np.searchsorted(cumulative, u, side="right")), len(cumulative) - 1)
    return s_next, float(R[s, a, s_next]), bool(terminal[s_next])
    ### END SOLUTION


def td_episode(P, R, terminal, Q, method, alpha, gamma, epsilon, rng, start=0, max_steps=100):
    """One episode of Q-learning or SARSA with epsilon-greedy actions.

    Args:
        P, R, terminal: the MDP (as frozen_lake's); Q: float (S, A), the values to start from.
        method: "q_learning" or "sarsa"; alpha, gamma, epsilon: floats; rng: a numpy Generator, drawn
            from in the order stated above (epsilon_greedy and mdp_step only).
        start: the first state; max_steps: the most steps of the episode.

    Returns:
        (Q_new, total_reward, steps): the updated values (a new array; Q stays unchanged), the sum of
        the episode's rewards (a float) and the number of steps taken (an int).
    """
    ### BEGIN SOLUTION
    s = start
    a = epsilon_greedy(Q[s], epsilon, rng)
    total, steps = 0.0, 0
    while steps < max_steps:
        steps += 1
        s_next, r, done = mdp_step(P, R, terminal, s, a, rng)
        total += r
        if method == "sarsa":
            a_next = 0 if done else epsilon_greedy(Q[s_next], epsilon, rng)
            Q = sarsa_update(Q, s, a, r, s_next, a_next, done, alpha, gamma)
        else:
            Q = q_learning_update(Q, s, a, r, s_next, done, alpha, gamma)
            a_next = 0 if done else epsilon_greedy(Q[s_next], epsilon, rng)
        if done:
            break
        s, a = s_next, a_next
    return Q, total, steps
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_td_episode" points=3
_P = np.zeros((3, 2, 3))
_P[0, :, 1] = _P[1, 0, 0] = _P[1, 1, 2] = _P[2, :, 2] = 1.0   # 0 -> 1; from 1: action 0 back to 0, 1 to 2 (terminal)
_P[1, 1] = [0.2, 0.0, 0.8]                                       # ... with probability 0.8
_R = np.where(np.arange(3) == 2, 1.0, -0.1)[None, None] * np.ones((3, 2, 1))
_term = np.array([False, False, True])
_s, _r, _d = unpack(call(mdp_step, _P, _R, _term, 1, 1, np.random.default_rng(0)), 3, "mdp_step")
_u = np.random.default_rng(0).random()
assert_that((_s, _r, _d) == ((0, -0.1, False) if _u < 0.2 else (2, 1.0, True)), f"mdp_step(s=1, a=1, "
            f"default_rng(0)): u = {_u:.3f}, expected {(0, -0.1, False) if _u < 0.2 else (2, 1.0, True)}, got "
            f"{(_s, _r, _d)}")
_states = [call(mdp_step, _P, _R, _term, 1, 1, np.random.default_rng(_i))[0] for _i in range(200)]
assert_close(np.mean(np.array(_states) == 2), 0.8, rtol=0, atol=0.1, name="mdp_step(s=1, a=1): share of 200 draws "
             "that reach state 2 (probability 0.8)")
_Q, _total, _steps = unpack(call(td_episode, _P, _R, _term, np.zeros((3, 2)), "q_learning", 0.5, 0.9, 0.0,
                                 np.random.default_rng(3)), 3, "td_episode")
assert_shape(_Q, (3, 2), name="Q of td_episode")
assert_that(1 <= int(_steps) <= 100, f"td_episode: expected between 1 and 100 steps, got {_steps}")
assert_close(_total, -0.1 * (int(_steps) - 1) + 1.0 if int(_steps) < 100 else -10.0,
             name="td_episode: the total reward (-0.1 per step, 1 at the goal)")
assert_seeded(lambda rng: call(td_episode, _P, _R, _term, np.zeros((3, 2)), "sarsa", 0.5, 0.9, 0.3, rng),
              "td_episode(sarsa, epsilon=0.3)")
### BEGIN HIDDEN TESTS


def _ref_greedy(q, eps, rng):
    if rng.random() < eps:
        return int(rng.integers(len(q)))
    best = np.flatnonzero(q == q.max())
    return int(best[rng.integers(len(best))]) if len(best) > 1 else int(best[0])


def _ref_episode(P, R, term, Q, method, alpha, gamma, eps, rng, start, max_steps):
    s, Q, total, steps = start, Q.copy(), 0.0, 0
    a = _ref_greedy(Q[s], eps, rng)
    while steps < max_steps:
        steps += 1
        c = np.cumsum(P[s, a])
        s2 = min(int(np.searchsorted(c, rng.random() * c[-1], side="right")), len(c) - 1)
        r, done = R[s, a, s2], term[s2]
        total += r
        if method == "sarsa":
            a2 = 0 if done else _ref_greedy(Q[s2], eps, rng)
            boot = Q[s2, a2]
        else:
            boot = Q[s2].max()
        Q[s, a] += alpha * (r + (0.0 if done else gamma * boot) - Q[s, a])
        if method != "sarsa":
            a2 = 0 if done else _ref_greedy(Q[s2], eps, rng)
        if done:
            break
        s, a = s2, a2
    return Q, total, steps


_rng = np.random.default_rng(1207)
for _S, _A, _nt in [(4, 2, 1), (6, 3, 2), (2, 1, 1)]:
    _P, _R, _term = random_mdp(_rng, _S, _A, _nt)
    _P[np.flatnonzero(_term)] = np.eye(_S)[np.flatnonzero(_term)][:, None]
    for _ in range(2):
        _P[_rng.integers(_S), _rng.integers(_A)] = np.eye(_S)[_rng.integers(_S)]   # some deterministic moves
    _start = int(np.flatnonzero(~_term)[0])
    for _method in ("q_learning", "sarsa"):
        _Q0 = _rng.normal(size=(_S, _A))
        for _seed, _eps, _max in [(1, 0.2, 50), (2, 0.0, 7), (3, 1.0, 30)]:
            _args = (_P, _R, _term, _Q0, _method, 0.3, 0.8, _eps)
            _ref = _ref_episode(*_args, np.random.default_rng(_seed), _start, _max)
            _got = unpack(call(td_episode, *_args, np.random.default_rng(_seed), _start, _max), 3, "td_episode")
            _name = f"td_episode(random MDP S={_S}, A={_A}, {_method}, epsilon={_eps}, start={_start}, " \
                    f"max_steps={_max}, default_rng({_seed}))"
            assert_that(int(_got[2]) == _ref[2], f"{_name}: expected {_ref[2]} steps, got {_got[2]}")
            assert_close(_got[1], _ref[1], rtol=1e-10, atol=1e-12, name=f"{_name}: the total reward")
            assert_close(_got[0], _ref[0], rtol=1e-10, atol=1e-12, name=f"{_name}: Q after the episode")
# mdp_step on a random MDP: the draws replayed
_P, _R, _term = random_mdp(_rng, 7, 2, 2)
_rs, _rr = np.random.default_rng(5), np.random.default_rng(5)
for _ in range(30):
    _s, _a = int(_rng.integers(7)), int(_rng.integers(2))
    _c = np.cumsum(_P[_s, _a])
    _ref = min(int(np.searchsorted(_c, _rr.random() * _c[-1], side="right")), 6)
    _got = unpack(call(mdp_step, _P, _R, _term, _s, _a, _rs), 3, "mdp_step")
    assert_that(tuple(_got) == (_ref, float(_R[_s, _a, _ref]), bool(_term[_ref])), f"mdp_step(random MDP, s={_s}, "
                f"a={_a}): expected {(_ref, float(_R[_s, _a, _ref]), bool(_term[_ref]))}, got {tuple(_got)}")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 2.** On a lake with a cliff along the straight path to the goal (falling
# in costs a lot), both methods train with $\varepsilon = 0.1$ held fixed. Whose learned greedy
# path runs right along the edge of the cliff? Set `q2_answer` to `"a"` (Q-learning's),
# `"b"` (SARSA's), `"c"` (both) or `"d"` (neither). The experiments below show it.

# %% nbgrader="solution" grade_id="q2_cliff"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = "a"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_cliff" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_choice(q2_answer, ["a", "b", "c", "d"], name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, "a", name="q2_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Policy gradients: returns-to-go
#
# Tables of values do not scale to states that are vectors of real numbers. A **policy
# gradient** method instead gives the policy parameters $\theta$, $\pi_\theta(a \mid s)$, and
# climbs the expected return $J(\theta)$ directly. The **REINFORCE** estimate of its gradient
# from one episode $s_0, a_0, r_1, s_1, a_1, r_2, \dots$ of $T$ steps is
#
# $$\nabla_\theta J \approx \sum_{t=0}^{T-1} \nabla_\theta \ln \pi_\theta(a_t \mid s_t)\,\big(G_t - b(s_t)\big),
#   \qquad G_t = \sum_{k=t}^{T-1} \gamma^{k-t}\, r_{k+1},$$
#
# where the **return-to-go** $G_t$ counts only the rewards that come *after* action $a_t$ (an
# action cannot change the past), discounted from step $t$ on. In code, `rewards[t]` is the
# reward that followed action $t$, so $G_t = \text{rewards}[t] + \gamma\, G_{t+1}$: one pass
# backwards.
#
# *Example*: rewards $(1, 0, 2)$, $\gamma = 0.5$: $G = (1 + 0.5 \cdot 0.5 \cdot 2,\ 0 + 0.5
# \cdot 2,\ 2) = (1.5, 1, 2)$.

# %% nbgrader="solution" grade_id="returns_to_go" export=true
def returns_to_go(rewards, gamma):
    """Discounted returns-to-go of one episode.

    Args:
        rewards: float (T,), rewards[t] the reward after the action at step t; gamma: the discount in [0, 1].

    Returns:
        float64 (T,): G[t] = sum_{k >= t} gamma ** (k - t) * rewards[k]. The argument stays unchanged.
    """
    ### BEGIN SOLUTION
    G = np.zeros(len(rewards))
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        G[t] = running
    return G
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_returns_to_go" points=2
assert_close(call(returns_to_go, np.array([1.0, 0.0, 2.0]), 0.5), [1.5, 1.0, 2.0],
             name="returns_to_go([1, 0, 2], gamma=0.5)")
assert_close(call(returns_to_go, np.ones(4), 1.0), [4.0, 3.0, 2.0, 1.0], name="returns_to_go([1, 1, 1, 1], gamma=1)")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(1208)
for _T, _gamma in [(1, 0.9), (2, 0.0), (7, 0.9), (50, 0.99), (13, 1.0), (0, 0.5)]:
    _rw = _rng.normal(size=_T)
    _ref = np.array([sum(_gamma ** (_k - _t) * _rw[_k] for _k in range(_t, _T)) for _t in range(_T)])
    _G = call(returns_to_go, _rw, _gamma)
    assert_close(_G, _ref.reshape(_T), rtol=1e-10, atol=1e-12, name=f"returns_to_go(random rewards, T={_T}, gamma={_gamma})")
_G = call(returns_to_go, np.array([1, 2, 3]), 0.5)
assert_close(_G, [2.75, 3.5, 3.0], name="returns_to_go(integer rewards [1, 2, 3], gamma=0.5) (float results)")
### END HIDDEN TESTS

# %% [markdown]
# ## 9. REINFORCE with a baseline
#
# Our policy is **linear softmax**: the state $o \in \mathbb{R}^D$ (a row of `obs`) gives
# scores $z = o W + b$ for the $A$ actions, and $\pi(a \mid o) = \operatorname{softmax}(z)_a$.
# For a batch of $N$ steps with actions $a_n$ and **advantages** $G_n - b_n$ (return-to-go
# minus baseline) we minimize the surrogate loss
#
# $$L = -\frac{1}{N} \sum_n (G_n - b_n) \ln \pi(a_n \mid o_n),$$
#
# whose gradient is minus the REINFORCE estimate (averaged); the advantages are constants,
# not differentiated. With $\partial(-\ln \operatorname{softmax}(z)_a)/\partial z =
# \operatorname{softmax}(z) - e_a$ (chapter 03's cross-entropy), the chain rule gives $dW$ and
# $db$. Compute $\ln \pi$ stably (subtract the row maximum). The **baseline** does not change
# the expected gradient — $\mathbb{E}_a[\nabla \ln \pi(a \mid s)] = 0$ — but a good one (here
# the mean return) makes the estimate much less noisy.

# %% nbgrader="solution" grade_id="policy_gradient" export=true
def policy_gradient(W, b, obs, actions, returns, baseline):
    """REINFORCE surrogate loss of a linear softmax policy and its gradients.

    Args:
        W: float (D, A), b: float (A,): pi(. | o) = softmax(o W + b).
        obs: float (N, D), the states; actions: int (N,), the actions taken;
        returns: float (N,), the returns-to-go; baseline: a float or a float array (N,).

    Returns:
        (loss, dW, db): loss = -mean_n (returns[n] - baseline[n]) ln pi(actions[n] | obs[n]) (a Python
        float), dW (D, A) and db (A,) its gradients, the advantages held fixed. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N = len(actions)
    z = obs @ W + b
    z = z - z.max(axis=1, keepdims=True)
    log_pi = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    advantages = returns - baseline
    loss = -np.mean(advantages * log_pi[np.arange(N), actions])
    dz = np.exp(log_pi)
    dz[np.arange(N), actions] -= 1.0
    dz *= advantages[:, None] / N
    return float(loss), obs.T @ dz, dz.sum(axis=0)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_policy_gradient" points=4
_loss, _dW, _db = unpack(call(policy_gradient, np.zeros((1, 2)), np.zeros(2), np.array([[1.0]]), np.array([0]),
                              np.array([3.0]), 1.0), 3, "policy_gradient")
assert_scalar(_loss, name="loss of policy_gradient")
assert_close(_loss, 2.0 * np.log(2.0), name="loss of policy_gradient(W=0, one step, action 0, G=3, baseline=1)")
assert_close(_db, [-1.0, 1.0], name="db of policy_gradient(W=0, one step, action 0, G=3, baseline=1)")
assert_close(_dW, [[-1.0, 1.0]], name="dW of policy_gradient(W=0, obs=[[1]], action 0, G=3, baseline=1)")
import torch

_rng = np.random.default_rng(1209)
_W, _b, _obs = _rng.normal(size=(4, 3)), _rng.normal(size=3), _rng.normal(size=(6, 4))
_act, _G = _rng.integers(0, 3, size=6), _rng.normal(size=6) + 2
_Wt, _bt = torch.tensor(_W, requires_grad=True), torch.tensor(_b, requires_grad=True)
_logp = torch.log_softmax(torch.tensor(_obs) @ _Wt + _bt, dim=1)[torch.arange(6), torch.tensor(_act)]
_lt = -(torch.tensor(_G - _G.mean()) * _logp).mean()
_lt.backward()
_loss, _dW, _db = call(policy_gradient, _W, _b, _obs, _act, _G, _G.mean())
assert_close(_loss, _lt.item(), name="loss of policy_gradient(random, baseline = mean return), against torch")
assert_close(_dW, _Wt.grad.numpy(), name="dW of policy_gradient(random, baseline = mean return), against torch autograd")
assert_close(_db, _bt.grad.numpy(), name="db of policy_gradient(random, baseline = mean return), against torch autograd")
### BEGIN HIDDEN TESTS
for _N, _D, _A, _scale, _base in [(1, 1, 2, 1.0, "scalar"), (9, 4, 2, 1.0, "array"), (20, 3, 5, 0.5, "array"),
                                  (5, 2, 3, 1000.0, "scalar"), (12, 6, 4, 1.0, "zero")]:
    _W, _b, _obs = _rng.normal(size=(_D, _A)) * _scale, _rng.normal(size=_A), _rng.normal(size=(_N, _D))
    _act, _G = _rng.integers(0, _A, size=_N), _rng.normal(size=_N) * 3 + 1
    _bl = {"scalar": float(_rng.normal()), "array": _rng.normal(size=_N), "zero": 0.0}[_base]
    _Wt, _bt = torch.tensor(_W, requires_grad=True), torch.tensor(_b, requires_grad=True)
    _logp = torch.log_softmax(torch.tensor(_obs) @ _Wt + _bt, dim=1)[torch.arange(_N), torch.tensor(_act)]
    _lt = -(torch.tensor(_G - _bl) * _logp).mean()
    _lt.backward()
    _got = unpack(call(policy_gradient, _W, _b, _obs, _act, _G, _bl), 3, "policy_gradient")
    _name = f"policy_gradient(N={_N}, D={_D}, A={_A}, weights x{_scale:g}, {_base} baseline)"
    assert_scalar(_got[0], name=f"loss of {_name}")
    assert_close(_got[0], _lt.item(), rtol=1e-8, atol=1e-10, name=f"loss of {_name}, against torch")
    assert_close(_got[1], _Wt.grad.numpy(), rtol=1e-8, atol=1e-10, name=f"dW of {_name}, against torch autograd")
    assert_close(_got[2], _bt.grad.numpy(), rtol=1e-8, atol=1e-10, name=f"db of {_name}, against torch autograd")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** In REINFORCE, what does subtracting a baseline $b(s_t)$ (one that does
# not depend on the action) from the returns change? Set `q3_answer` to `"a"` (the expected
# gradient, not its variance), `"b"` (the variance of the estimate, not its expectation),
# `"c"` (both) or `"d"` (neither).

# %% nbgrader="solution" grade_id="q3_baseline"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_baseline" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_choice(q3_answer, ["a", "b", "c", "d"], name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, "b", name="q3_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** Q-learning's update bootstraps from $\max_{a'} Q(s', a')$,
# SARSA's from the action the agent really takes. Explain why, with a fixed $\varepsilon > 0$,
# the two learn different paths on a map with a cliff, which of the two paths is better while
# the agent still explores and which once exploration is switched off, and what happens to
# SARSA's path if $\varepsilon$ is slowly decreased to 0. Answer in three to five sentences in
# the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_cliff" points=2
# *Model answer.* Q-learning's target assumes the agent acts greedily from $s'$ on, so it
# learns $Q^*$ and its greedy path is the shortest one, right along the edge, ignoring that
# the ε-greedy agent sometimes takes a random step there and falls. SARSA's target uses the
# action really taken, random ones included, so the values of the cells next to the cliff
# carry the expected cost of those falls, and its greedy path keeps a safe distance. While
# exploring, SARSA's path earns more (fewer falls); with exploration off, Q-learning's path
# is optimal and SARSA's is a few steps longer. With ε decreasing to 0 (slowly enough),
# SARSA's behaviour becomes greedy, its values converge to $Q^*$, and its path moves to the
# edge as well.

# %% [markdown]
# ## 10. Dynamic programming against Gymnasium
#
# Gymnasium ships FrozenLake with its own transition table, `env.unwrapped.P[s][a]`, a list
# of `(probability, next state, reward, terminated)`. Your `frozen_lake` with slip $2/3$
# should give exactly the same arrays; value and policy iteration on them must agree; and
# the optimal values should predict how often the greedy policy reaches the goal when we play
# it in Gymnasium's own environment. With $\gamma = 1$ and reward 1 only at the goal, $V^*(s)$
# **is** the probability of reaching the goal from $s$.

# %%
import time

from threadpoolctl import threadpool_limits

threadpool_limits(1)  # tiny matrices: one BLAS thread is faster

LAKE_8x8 = MAPS["8x8"]


dp = {}
for name, desc in [("4x4", LAKE_4x4), ("8x8", LAKE_8x8)]:
    P, R, terminal = frozen_lake(desc, slip=2 / 3)
    P_gym, R_gym = gym_table(desc, is_slippery=True)
    V_vi, pi_vi, sweeps = value_iteration(P, R, terminal, 1.0, tol=1e-12)
    V_vi99, _, sweeps99 = value_iteration(P, R, terminal, 0.99)
    V_pi, pi_pi, evaluations = policy_iteration(P, R, terminal, 0.99)
    start = time.perf_counter()
    env = gym.make("FrozenLake-v1", desc=desc, is_slippery=True, max_episode_steps=10_000)
    wins, episodes = 0, 2000
    for episode in range(episodes):
        s, _ = env.reset(seed=episode)
        done = False
        while not done:
            s, r, terminated, truncated, _ = env.step(int(pi_vi[s]))
            done = terminated or truncated
        wins += r > 0
    dp[name] = {"same_as_gym": bool(np.allclose(P, P_gym, rtol=0, atol=1e-12) and np.array_equal(R * (P > 0), R_gym)),
                "V": V_vi, "policy": pi_vi, "sweeps": sweeps, "sweeps99": sweeps99, "evaluations": evaluations,
                "vi_pi_gap": float(np.max(np.abs(V_vi99 - V_pi))), "win_rate": wins / episodes,
                "play_seconds": time.perf_counter() - start}
    print(f"{name}: P and R equal to Gymnasium's: {dp[name]['same_as_gym']}; gamma = 0.99: value iteration "
          f"{sweeps99} sweeps, policy iteration {evaluations} evaluations, largest difference "
          f"{dp[name]['vi_pi_gap']:.1e}")
    print(f"      gamma = 1 ({sweeps} sweeps): V*(start) = {V_vi[0]:.4f}; the greedy policy played in Gymnasium "
          f"reaches the goal in {wins / episodes:.1%} of {episodes} episodes")


def draw_values(ax, desc, V, policy, title, terminal=None):
    """The values as a heat map with the greedy action of each non-terminal cell as an arrow."""
    nrow, ncol = len(desc), len(desc[0])
    ax.imshow(np.asarray(V).reshape(nrow, ncol), cmap="viridis")
    for s in range(nrow * ncol):
        r, c = divmod(s, ncol)
        letter = desc[r][c]
        text = letter if letter in "HG" else ARROWS[int(policy[s])]
        ax.text(c, r, text, ha="center", va="center", color="w" if letter != "G" else "k", fontsize=11)
    ax.set(xticks=[], yticks=[], title=title)


fig, axes = plt.subplots(1, 2, figsize=(8.5, 4.2))
draw_values(axes[0], LAKE_4x4, dp["4x4"]["V"], dp["4x4"]["policy"], "4x4, slippery: V* (γ = 1)")
draw_values(axes[1], LAKE_8x8, dp["8x8"]["V"], dp["8x8"]["policy"], "8x8, slippery: V* (γ = 1)")
plt.show()

# %% [markdown]
# The arrays are Gymnasium's; value iteration and policy iteration agree to about $10^{-9}$,
# policy iteration after a handful of evaluations where value iteration needs hundreds of
# sweeps. On the slippery 4x4 lake the best one can do is reach the goal about 82 % of the
# time, and playing the greedy policy in Gymnasium confirms it. Look at the arrows: next to a
# hole the policy often points *away* from the goal, or into a wall, because the ice only
# slides you sideways — moving "left" along a hole on your right is the one way not to fall in.
# On the 8x8 lake patience pays: with no discount and no time limit, the goal can be reached
# almost surely.
#
# ## 11. Q-learning against SARSA on a cliff
#
# A lake of 4 × 12 cells whose bottom row, between the start and the goal, is all holes —
# the cliff. Every step costs 1, falling in costs 100 and ends the episode. Both methods train
# for 500 episodes with $\alpha = 0.5$, $\varepsilon = 0.1$, $\gamma = 1$, over 10 seeds.

# %%
CLIFF = ["FFFFFFFFFFFF", "FFFFFFFFFFFF", "FFFFFFFFFFFF", "SHHHHHHHHHHG"]
CLIFF_START = 36
P_cliff, R_cliff, terminal_cliff = frozen_lake(CLIFF, step_reward=-1.0, hole_reward=-100.0, goal_reward=-1.0)
CLIFF_EPISODES, CLIFF_SEEDS = 500, 10


def train_td(method, seed):
    """Q-learning or SARSA on the cliff: the final Q and the return of every episode."""
    rng = np.random.default_rng(seed)
    Q = np.zeros(P_cliff.shape[:2])
    returns = np.empty(CLIFF_EPISODES)
    for episode in range(CLIFF_EPISODES):
        Q, returns[episode], _ = td_episode(P_cliff, R_cliff, terminal_cliff, Q, method, 0.5, 1.0, 0.1, rng,
                                            start=CLIFF_START, max_steps=500)
    return Q, returns


def greedy_path(Q, start=CLIFF_START, max_steps=100):
    """The states visited by the greedy policy of Q (no slip) and its return."""
    path, total, s = [start], 0.0, start
    for _ in range(max_steps):
        a = int(np.argmax(Q[s]))
        s_next = int(np.argmax(P_cliff[s, a]))
        total += R_cliff[s, a, s_next]
        s = s_next
        path.append(s)
        if terminal_cliff[s]:
            break
    return path, total


start = time.perf_counter()
cliff = {}
for method in ("q_learning", "sarsa"):
    runs = [train_td(method, seed) for seed in range(CLIFF_SEEDS)]
    paths = [greedy_path(Q) for Q, _ in runs]
    cliff[method] = {"returns": np.stack([r for _, r in runs]), "Q": runs[0][0], "path": paths[0][0],
                     "greedy_returns": [total for _, total in paths],
                     "path_rows": [np.mean([s // 12 for s in p]) for p, _ in paths]}
cliff_seconds = time.perf_counter() - start
V_cliff, _, _ = value_iteration(P_cliff, R_cliff, terminal_cliff, 1.0)
for method, label in [("q_learning", "Q-learning"), ("sarsa", "SARSA")]:
    res = cliff[method]
    print(f"{label:10s}: mean return of the last 100 training episodes {res['returns'][:, -100:].mean():7.1f}; "
          f"greedy path return {np.mean(res['greedy_returns']):6.1f} (mean over {CLIFF_SEEDS} seeds)")
print(f"the optimal return (value iteration): {V_cliff[CLIFF_START]:.0f}; both trained in {cliff_seconds:.1f} s")

fig, (ax_curve, ax_path) = plt.subplots(1, 2, figsize=(12, 3.6), gridspec_kw={"width_ratios": [1, 1.3]})
kernel = np.ones(20) / 20
for method, label in [("q_learning", "Q-learning"), ("sarsa", "SARSA")]:
    ax_curve.plot(np.convolve(cliff[method]["returns"].mean(axis=0), kernel, mode="valid"), label=label)
ax_curve.set(xlabel="episode", ylabel="return (mean of 10 seeds, 20-episode average)", ylim=(-120, 0),
             title="Returns while learning (ε = 0.1)")
ax_curve.legend()
ax_path.imshow(np.array([[{"H": 0.0, "G": 2.0, "S": 2.0}.get(ch, 1.0) for ch in row] for row in CLIFF]), cmap="Blues",
               vmin=-1, vmax=3)
for method, label, color, offset in [("q_learning", "Q-learning", "C0", -0.1), ("sarsa", "SARSA", "C1", 0.1)]:
    rows, cols = np.divmod(np.array(cliff[method]["path"]), 12)
    ax_path.plot(cols, rows + offset, "o-", color=color, label=label)
ax_path.set(xticks=[], yticks=[], title="Greedy paths after training (seed 0); the cliff in white")
ax_path.legend(loc="upper center", ncol=2)
plt.show()

# %% [markdown]
# Q-learning learns the optimal path, right along the cliff (its greedy return equals value
# iteration's), yet while it trains it earns *less*: with $\varepsilon = 0.1$ a random step
# now and then drops it off the edge. SARSA learns the value of what it really does,
# random steps included, so it walks a detour away from the edge and earns more while
# exploring. Neither is wrong: they answer different questions (the concept check and the
# written answer above).
#
# ## 12. REINFORCE on CartPole
#
# Gymnasium's **CartPole-v1**: a pole on a cart; the state is 4 numbers (cart position and
# velocity, pole angle and angular velocity), the actions push the cart left or right, and
# every step the pole stays up pays 1, up to 500. The classic "solved" line is an average
# return of 195 over 100 consecutive episodes. Our policy is linear softmax over the 4
# numbers — 10 parameters — trained with your `policy_gradient` and chapter 05's Adam, one
# update per batch of 5 episodes, the baseline being the mean return-to-go of the batch. A
# second run uses no baseline (0), all else equal.

# %%
from dllib.ch05_optimization import Adam

PG_BATCH, PG_LR, PG_GAMMA, PG_MAX_EPISODES = 5, 0.05, 0.99, 1000


def run_episode(env, W, b, rng, seed):
    """One CartPole episode with actions drawn from the softmax policy: states, actions, rewards."""
    o, _ = env.reset(seed=seed)
    states, actions, rewards = [], [], []
    done = False
    while not done:
        z = o @ W + b
        a = int(rng.random() < 1.0 / (1.0 + np.exp(z[0] - z[1])))   # softmax of two scores: P(a = 1)
        states.append(o)
        actions.append(a)
        o, r, terminated, truncated, _ = env.step(a)
        rewards.append(r)
        done = terminated or truncated
    return np.array(states), np.array(actions), np.array(rewards)


def train_reinforce(use_baseline, seed=0):
    """REINFORCE until the last 100 episodes average 195 (or PG_MAX_EPISODES): parameters, episode returns."""
    env = gym.make("CartPole-v1")
    rng = np.random.default_rng(seed)
    params = {"W": np.zeros((4, 2)), "b": np.zeros(2)}
    optimizer = Adam(params, lr=PG_LR)
    episode_returns = []
    while len(episode_returns) < PG_MAX_EPISODES:
        batch = [run_episode(env, params["W"], params["b"], rng, int(rng.integers(2**31))) for _ in range(PG_BATCH)]
        episode_returns += [float(rw.sum()) for _, _, rw in batch]
        if len(episode_returns) >= 100 and np.mean(episode_returns[-100:]) >= 195:
            break
        obs = np.concatenate([o for o, _, _ in batch])
        actions = np.concatenate([a for _, a, _ in batch])
        G = np.concatenate([returns_to_go(rw, PG_GAMMA) for _, _, rw in batch])
        _, dW, db = policy_gradient(params["W"], params["b"], obs, actions, G, G.mean() if use_baseline else 0.0)
        optimizer.step({"W": dW, "b": db})
    return params, np.array(episode_returns)


PG_SEEDS = 3
start = time.perf_counter()
pg_runs = {use: [train_reinforce(use, seed) for seed in range(PG_SEEDS)] for use in (True, False)}
pg_seconds = time.perf_counter() - start
pg_params, pg_returns = pg_runs[True][0]
pg_returns_plain = pg_runs[False][0][1]
pg_solved = {use: [len(r) if len(r) < PG_MAX_EPISODES else None for _, r in runs] for use, runs in pg_runs.items()}
eval_env, eval_rng = gym.make("CartPole-v1"), np.random.default_rng(123)
pg_eval = np.array([run_episode(eval_env, pg_params["W"], pg_params["b"], eval_rng, 10_000 + i)[2].sum()
                    for i in range(100)])
for use, label in [(True, "with baseline"), (False, "no baseline  ")]:
    print(f"{label}: episodes until the last 100 average 195, seeds 0-{PG_SEEDS - 1}: "
          + ", ".join(str(n) if n else f"> {PG_MAX_EPISODES}" for n in pg_solved[use]))
print(f"({pg_seconds:.1f} s for the {2 * PG_SEEDS} runs)")
print(f"the trained policy on 100 new episodes: average return {pg_eval.mean():.1f} (min {pg_eval.min():.0f}, "
      f"max {pg_eval.max():.0f})")

fig, ax = plt.subplots(figsize=(8, 3.6))
for returns, label, color in [(pg_returns, "with baseline", "C0"), (pg_returns_plain, "no baseline", "C1")]:
    ax.plot(returns, color=color, alpha=0.25, lw=0.8)
    ax.plot(np.arange(99, len(returns)), np.convolve(returns, np.ones(100) / 100, mode="valid"), color=color,
            label=f"{label} (100-episode average)")
ax.axhline(195, color="k", ls="--", lw=1, label="195")
ax.set(xlabel="episode", ylabel="return", title="REINFORCE on CartPole-v1, a linear softmax policy (seed 0)")
ax.legend()
plt.show()

# %% [markdown]
# Ten parameters balance the pole, after about 300 episodes (a few seconds). Without a
# baseline every return is positive, so every action taken gets pushed up, the good ones only
# a little more than the bad ones; subtracting the mean return lets the below-average episodes
# push their actions *down*: the printed counts show it learning faster on every seed. The gap
# is modest on a problem this small; with more parameters and longer episodes the noise of the
# plain estimate grows, and baselines (learned ones, in actor-critic methods) become essential.
#
# ## 13. Gridworld explorer
#
# Value iteration, one sweep at a time, on the maps of this chapter, with your `frozen_lake`,
# `q_from_v` and `policy_evaluation`. Move the **sweeps** slider (or press *+1 sweep*) and
# watch the values spread back from the goal, and the arrows of the greedy policy settle.
# Change the discount, the slip probability and the reward per step: a negative step reward
# makes the agent hurry (and take risks), a slippery lake makes it careful. With **ε** the
# explorer also evaluates the ε-greedy version of the current greedy policy (right): how much
# exploring costs, cell by cell.

# %%
from IPython.display import display

from helpers.explorers.gridworld import gridworld_explorer

grid_maps = {"4x4 lake": LAKE_4x4, "8x8 lake": LAKE_8x8, "cliff (holes -100)": {"desc": CLIFF, "hole_reward": -100.0}}
grid_view = gridworld_explorer(frozen_lake, q_from_v, policy_evaluation, grid_maps)
display(grid_view)
