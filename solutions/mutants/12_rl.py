"""Plausible wrong solutions for chapter 12; each must make its tests cell fail.

Every mutant is the chapter's own solution cell with one realistic mistake edited in (each
replaced text must occur exactly once, so a changed reference is noticed). ``why`` is shown to
a student whose results match the mutant's. The first mutant is used as "the student with one
mistake", so it breaks its own tests cell only: no later tests cell uses ``returns_to_go``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import Mutant, editor

edit = editor(Path(__file__).resolve().parents[1] / "12_rl.py")

RETURNS_TO_GO = [
    edit("returns_to_go", "undiscounted returns-to-go: gamma is ignored",
         ("running = rewards[t] + gamma * running", "running = rewards[t] + running"), kind="ignored"),
    edit("returns_to_go", "discounts from the start of the episode (gamma ** k) instead of from step t "
         "(gamma ** (k - t))",
         ("running = rewards[t] + gamma * running", "running = gamma ** t * rewards[t] + running")),
    edit("returns_to_go", "G[t] leaves out rewards[t], the reward that followed action t",
         ("        running = rewards[t] + gamma * running\n        G[t] = running\n",
          "        G[t] = gamma * running\n        running = rewards[t] + gamma * running\n"), kind="order"),
    edit("returns_to_go", "sums the rewards before step t (a running sum forwards) instead of those after it",
         ("for t in range(len(rewards) - 1, -1, -1):", "for t in range(len(rewards)):"), kind="order"),
]

FROZEN_LAKE = [
    edit("frozen_lake", "slips to the wrong neighbours: the two perpendicular directions are a - 1 and a + 1 "
         "(mod 4), not a + 1 and a + 2",
         ("(((a - 1) % 4, slip / 2), (a, 1.0 - slip)", "(((a + 2) % 4, slip / 2), (a, 1.0 - slip)")),
    edit("frozen_lake", "state numbers column-major: s = row * ncol + col (divmod by ncol, not nrow)",
         ("rows, cols = np.divmod(np.arange(S), ncol)", "rows, cols = np.divmod(np.arange(S), nrow)"),
         kind="order"),
    edit("frozen_lake", "terminal states are not absorbing: from H and G every action must stay in place",
         ("    P[ends] = 0.0\n    P[ends[:, None], np.arange(4), ends[:, None]] = 1.0\n", ""), kind="edge"),
    edit("frozen_lake", "the reward of the cell left instead of the cell entered",
         ("R = np.repeat(np.tile(entered, (4, 1))[None], S, axis=0)",
          "R = np.repeat(np.repeat(entered[:, None, None], 4, axis=1), S, axis=2)")),
    edit("frozen_lake", "a move into the border wraps around to the other side instead of staying in place",
         ("np.clip(rows + dr, 0, nrow - 1) * ncol + np.clip(cols + dc, 0, ncol - 1)",
          "(rows + dr) % nrow * ncol + (cols + dc) % ncol"), kind="edge"),
]

POLICY_EVALUATION = [
    edit("policy_evaluation", "bootstraps from terminal states: their value must count as 0 in the Bellman "
         "equation, whatever their row of P says",
         ("P_pi = np.einsum(\"sa,sat->st\", policy, P) * ~terminal", "P_pi = np.einsum(\"sa,sat->st\", policy, P)"),
         kind="edge"),
    edit("policy_evaluation", "no discount: gamma is ignored",
         ("np.eye(len(terminal)) - gamma * P_pi", "np.eye(len(terminal)) - P_pi"), kind="ignored"),
    edit("policy_evaluation", "the expected reward ignores the transition probabilities (sums R over s')",
         ("r_pi = np.einsum(\"sa,sat,sat->s\", policy, P, R)", "r_pi = np.einsum(\"sa,sat->s\", policy, R)")),
    edit("policy_evaluation", "ignores the policy: evaluates the uniformly random policy",
         ("r_pi = np.einsum(\"sa,sat,sat->s\", policy, P, R)",
          "policy = np.full(policy.shape, 1.0 / policy.shape[1])\n    r_pi = np.einsum(\"sa,sat,sat->s\", policy, P, R)"),
         kind="ignored"),
]

VALUE_ITERATION = [
    # q_from_v
    edit("value_iteration", "q_from_v bootstraps from terminal states: V[s'] of a terminal s' counts as 0",
         ("gamma * P @ np.where(terminal, 0.0, V)", "gamma * P @ V"), kind="edge"),
    edit("value_iteration", "no discount in the backup: gamma is ignored",
         ("Q = np.einsum(\"sat,sat->sa\", P, R) + gamma * P", "Q = np.einsum(\"sat,sat->sa\", P, R) + P"),
         kind="ignored"),
    edit("value_iteration", "the rows of terminal states are not set to 0",
         ("    return np.where(terminal[:, None], 0.0, Q)\n", "    return Q\n"), kind="edge"),
    # value_iteration
    edit("value_iteration", "the expectation over actions (a uniformly random policy) instead of the max",
         ("V_new = q_from_v(P, R, terminal, V, gamma).max(axis=1)", "V_new = q_from_v(P, R, terminal, V, gamma).mean(axis=1)")),
    edit("value_iteration", "stops after the first sweep",
         ("converged = np.max(np.abs(V_new - V)) < tol", "converged = True"), kind="edge"),
    edit("value_iteration", "the greedy policy picks the best next-state value, ignoring rewards and "
         "probabilities: argmax over Q",
         ("np.argmax(q_from_v(P, R, terminal, V, gamma), axis=1), sweeps", "np.argmax(P @ V, axis=1), sweeps")),
]

POLICY_ITERATION = [
    edit("policy_iteration", "returns after the first improvement instead of repeating until the policy is stable",
         ("        if np.array_equal(improved, policy):\n            return V, policy, evaluations\n        policy = "
          "improved\n", "        return V, improved, evaluations\n"), kind="edge"),
    edit("policy_iteration", "evaluates the uniformly random policy instead of the current deterministic one",
         ("np.eye(A)[policy]", "np.full((S, A), 1.0 / A)"), kind="ignored"),
    edit("policy_iteration", "starts from action 2 instead of the stated action 0",
         ("policy = np.zeros(S, dtype=np.int64)", "policy = np.full(S, 2 % A, dtype=np.int64)")),
    edit("policy_iteration", "counts the improvements instead of the evaluations (one fewer)",
         ("            return V, policy, evaluations", "            return V, policy, evaluations - 1"), kind="edge"),
]

EPSILON_GREEDY = [
    edit("epsilon_greedy", "draws from numpy's global generator instead of rng",
         ("if rng.random() < epsilon:", "if np.random.random() < epsilon:"), kind="rng"),
    edit("epsilon_greedy", "ties always go to the first action (np.argmax): draw among the tied actions with "
         "rng.integers",
         ("return int(best[rng.integers(len(best))]) if len(best) > 1 else int(best[0])", "return int(np.argmax(q))"),
         kind="edge"),
    edit("epsilon_greedy", "explores with probability 1 - epsilon (the comparison is reversed)",
         ("if rng.random() < epsilon:", "if rng.random() >= epsilon:")),
    edit("epsilon_greedy", "the random action excludes the greedy one",
         ("        return int(rng.integers(len(q)))\n",
          "        others = np.flatnonzero(q != np.max(q))\n        return int(others[rng.integers(len(others))]) if "
          "len(others) else int(np.argmax(q))\n")),
    edit("epsilon_greedy", "skips the draw of u when epsilon is 0: the stated order always draws u first",
         ("if rng.random() < epsilon:", "if epsilon > 0 and rng.random() < epsilon:"), kind="rng"),
]

TD_UPDATES = [
    # q_learning_update
    edit("td_updates", "Q-learning bootstraps from the mean over next actions instead of the max",
         ("target = r if done else r + gamma * np.max(Q[s_next])", "target = r if done else r + gamma * np.mean(Q[s_next])")),
    edit("td_updates", "Q-learning bootstraps from a terminal state: when done the target is r alone",
         ("target = r if done else r + gamma * np.max(Q[s_next])", "target = r + gamma * np.max(Q[s_next])"),
         kind="edge"),
    edit("td_updates", "Q-learning without discount", ("target = r if done else r + gamma * np.max(Q[s_next])",
                                                      "target = r if done else r + np.max(Q[s_next])"), kind="ignored"),
    edit("td_updates", "Q-learning sets Q[s, a] to the target: alpha is ignored",
         ("    Q = Q.copy()\n    Q[s, a] += alpha * (target - Q[s, a])\n    return Q\n    ### END SOLUTION\n\n\ndef sarsa",
          "    Q = Q.copy()\n    Q[s, a] = target\n    return Q\n    ### END SOLUTION\n\n\ndef sarsa"), kind="ignored"),
    # sarsa_update
    edit("td_updates", "SARSA bootstraps from the max over next actions (that is Q-learning) instead of the action "
         "taken", ("target = r if done else r + gamma * Q[s_next, a_next]", "target = r if done else r + gamma * "
                   "np.max(Q[s_next])")),
    edit("td_updates", "SARSA bootstraps from a terminal state: when done the target is r alone",
         ("target = r if done else r + gamma * Q[s_next, a_next]", "target = r + gamma * Q[s_next, a_next]"),
         kind="edge"),
    edit("td_updates", "SARSA looks up the next action in the current state: Q[s, a_next] instead of Q[s_next, a_next]",
         ("target = r if done else r + gamma * Q[s_next, a_next]", "target = r if done else r + gamma * Q[s, a_next]"),
         kind="order"),
    edit("td_updates", "SARSA updates Q in place: return a new array",
         ("    target = r if done else r + gamma * Q[s_next, a_next]\n    Q = Q.copy()\n",
          "    target = r if done else r + gamma * Q[s_next, a_next]\n"), kind="inplace"),
]

TD_EPISODE = [
    # mdp_step
    edit("td_episode", "mdp_step draws from numpy's global generator instead of rng",
         ("u = rng.random() * cumulative[-1]", "u = np.random.random() * cumulative[-1]"), kind="rng"),
    edit("td_episode", "mdp_step reports whether s (not s_next) is terminal",
         ("bool(terminal[s_next])", "bool(terminal[s])"), kind="order"),
    edit("td_episode", "mdp_step takes the most likely next state instead of drawing one",
         ("s_next = min(int(np.searchsorted(cumulative, u, side=\"right\")), len(cumulative) - 1)",
          "s_next = int(np.argmax(P[s, a]))"), kind="ignored"),
    # td_episode
    edit("td_episode", "ignores method: always Q-learning", ("if method == \"sarsa\":", "if False:"), kind="ignored"),
    edit("td_episode", "does not stop at a terminal state: the episode ends when done",
         ("        if done:\n            break\n", ""), kind="edge"),
    edit("td_episode", "ignores start: the episode must begin in the given start state",
         ("    s = start\n", "    s = 0\n"), kind="ignored"),
    edit("td_episode", "Q-learning picks its next action before the update (the stated order: update first)",
         ("            Q = q_learning_update(Q, s, a, r, s_next, done, alpha, gamma)\n"
          "            a_next = 0 if done else epsilon_greedy(Q[s_next], epsilon, rng)\n",
          "            a_next = 0 if done else epsilon_greedy(Q[s_next], epsilon, rng)\n"
          "            Q = q_learning_update(Q, s, a, r, s_next, done, alpha, gamma)\n"), kind="order"),
]

POLICY_GRADIENT = [
    edit("policy_gradient", "the baseline is not subtracted from the returns",
         ("advantages = returns - baseline", "advantages = returns + 0.0 * np.mean(baseline)"), kind="ignored"),
    edit("policy_gradient", "the gradient of -ln softmax misses the softmax term: it is softmax(z) - onehot(a)",
         ("dz = np.exp(log_pi)", "dz = np.zeros_like(log_pi)")),
    edit("policy_gradient", "the gradients are summed over the batch while the loss is a mean",
         ("dz *= advantages[:, None] / N", "dz *= advantages[:, None]")),
    edit("policy_gradient", "the gradient of the REINFORCE objective (ascent) instead of the loss (descent): the "
         "sign is flipped", ("return float(loss), obs.T @ dz, dz.sum(axis=0)",
                             "return float(loss), -(obs.T @ dz), -dz.sum(axis=0)")),
    edit("policy_gradient", "no max subtraction: exp overflows for large scores",
         ("    z = z - z.max(axis=1, keepdims=True)\n", ""), kind="edge"),
]

MUTANTS: list[Mutant] = [*RETURNS_TO_GO, *FROZEN_LAKE, *POLICY_EVALUATION, *VALUE_ITERATION, *POLICY_ITERATION,
                         *EPSILON_GREEDY, *TD_UPDATES, *TD_EPISODE, *POLICY_GRADIENT]
