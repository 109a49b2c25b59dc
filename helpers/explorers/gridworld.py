"""Chapter 12 (reinforcement learning): the gridworld explorer.

It only *calls* the functions it is given (the student's ``frozen_lake``, ``q_from_v`` and
``policy_evaluation``); it has no MDP, backup or evaluation of its own. Value iteration is the
sweep ``V <- max_a q_from_v(V)`` from ``V = 0``, repeated ``sweeps`` times, so moving the slider
(or pressing *+1 sweep*) steps it; the greedy policy of the current values is drawn as arrows,
and the ε-greedy version of that policy is evaluated exactly next to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np

from helpers.explorers.cnn import describe_error
from helpers.widgets import Explorer, FigureView

__all__ = ["DISCOUNTS", "MAX_SWEEPS", "SLIPS", "GridworldExplorer", "gridworld_explorer"]

ARROWS = "←↓→↑"  # actions 0 left, 1 down, 2 right, 3 up
DISCOUNTS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0)
SLIPS = (("0", 0.0), ("0.1", 0.1), ("0.2", 0.2), ("1/3", 1 / 3), ("0.5", 0.5), ("2/3", 2 / 3), ("0.8", 0.8),
         ("1", 1.0))
MAX_SWEEPS = 300
CONVERGED = 1e-8  # the largest change of a sweep below which "converge" stops


def _map_spec(spec: Sequence[str] | Mapping[str, Any]) -> dict[str, Any]:
    """A map as {"desc": [...], "hole_reward": float, "goal_reward": float}."""
    if isinstance(spec, Mapping):
        return {"desc": list(spec["desc"]), "hole_reward": float(spec.get("hole_reward", 0.0)),
                "goal_reward": float(spec.get("goal_reward", 1.0))}
    return {"desc": list(spec), "hole_reward": 0.0, "goal_reward": 1.0}


class GridworldExplorer(Explorer):
    """Value iteration stepped sweep by sweep on a FrozenLake map, with the student's functions.

    ``maps`` maps a name to a list of row strings, or to ``{"desc": [...], "hole_reward": h,
    "goal_reward": g}`` (defaults 0 and 1). Controls: ``map``, ``gamma``, ``slip``,
    ``step_reward``, ``epsilon``, ``sweeps``; the buttons *+1 sweep* and *converge* move ``sweeps``.

    ``state``: the control values, ``V`` (S,) after ``sweeps`` sweeps, ``Q`` (S, 4) = q_from_v(V),
    ``policy`` (S,) greedy (lowest action on ties), ``change`` (largest change of the last sweep, None
    at 0 sweeps), ``changed`` (how many greedy actions the last sweep changed), ``V_eps`` (S,) the
    value of the ε-greedy policy (None when gamma = 1), ``terminal``, ``error``, ``status``.
    """

    def __init__(
        self,
        frozen_lake: Callable[..., Any],
        q_from_v: Callable[..., Any],
        policy_evaluation: Callable[..., Any],
        maps: Mapping[str, Sequence[str] | Mapping[str, Any]],
        *,
        map: str | None = None,
        gamma: float = 0.9,
        slip: float = 0.0,
        step_reward: float = 0.0,
        epsilon: float = 0.1,
        sweeps: int = 0,
    ) -> None:
        if not maps:
            raise ValueError("maps must hold at least one map")
        self.frozen_lake, self.q_from_v, self.policy_evaluation = frozen_lake, q_from_v, policy_evaluation
        self.maps = {name: _map_spec(spec) for name, spec in maps.items()}
        style = {"description_width": "initial"}
        controls = {
            "map": widgets.Dropdown(options=list(self.maps), value=map or next(iter(self.maps)), description="map"),
            "gamma": widgets.SelectionSlider(options=list(DISCOUNTS), value=gamma, description="discount γ",
                                             continuous_update=False, style=style),
            "slip": widgets.SelectionSlider(options=list(SLIPS), value=slip, description="slip",
                                            continuous_update=False, style=style),
            "step_reward": widgets.FloatSlider(value=step_reward, min=-1.0, max=0.5, step=0.05,
                                               description="step reward", continuous_update=False, style=style),
            "epsilon": widgets.FloatSlider(value=epsilon, min=0.0, max=1.0, step=0.05, description="ε",
                                           continuous_update=False, style=style),
            "sweeps": widgets.IntSlider(value=sweeps, min=0, max=MAX_SWEEPS, description="sweeps",
                                        continuous_update=False, style=style),
        }
        self.step_button = widgets.Button(description="+1 sweep")
        self.converge_button = widgets.Button(description="converge")
        self.step_button.on_click(lambda _: self._set_sweeps(self.controls["sweeps"].value + 1))
        self.converge_button.on_click(lambda _: self._set_sweeps(self.sweeps_to_converge()))
        super().__init__(controls, FigureView(ncols=2, figsize=(11.0, 4.2)))
        self.widget.children = (
            widgets.HBox([controls["map"], controls["gamma"], controls["slip"]]),
            widgets.HBox([controls["step_reward"], controls["epsilon"]]),
            widgets.HBox([controls["sweeps"], self.step_button, self.converge_button]),
            *self.widget.children[1:],
        )

    def _set_sweeps(self, sweeps: int) -> None:
        self.controls["sweeps"].value = int(min(max(sweeps, 0), MAX_SWEEPS))

    def mdp(self, map: str, slip: float, step_reward: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """P, R, terminal of a map from the student's frozen_lake, checked for shape."""
        spec = self.maps[map]
        S = len(spec["desc"]) * len(spec["desc"][0])
        result = self.frozen_lake(spec["desc"], slip, step_reward, spec["hole_reward"], spec["goal_reward"])
        if not isinstance(result, tuple | list) or len(result) != 3:
            raise ValueError("frozen_lake: expected (P, R, terminal)")
        P, R, terminal = (np.asarray(x) for x in result)
        if P.shape != (S, 4, S) or R.shape != (S, 4, S) or terminal.shape != (S,):
            raise ValueError(f"frozen_lake: expected P and R of shape {(S, 4, S)} and terminal {(S,)}, got "
                             f"{P.shape}, {R.shape}, {terminal.shape}")
        return P.astype(float), R.astype(float), terminal.astype(bool)

    def backup(self, P: np.ndarray, R: np.ndarray, terminal: np.ndarray, V: np.ndarray, gamma: float) -> np.ndarray:
        Q = np.asarray(self.q_from_v(P, R, terminal, V, gamma), dtype=float)
        if Q.shape != P.shape[:2]:
            raise ValueError(f"q_from_v: expected Q of shape {P.shape[:2]}, got {Q.shape}")
        return Q

    def sweeps_to_converge(self) -> int:
        """The first number of sweeps whose last change is below CONVERGED (MAX_SWEEPS at most)."""
        values = self.values
        try:
            P, R, terminal = self.mdp(values["map"], values["slip"], values["step_reward"])
            V = np.zeros(len(terminal))
            for sweep in range(1, MAX_SWEEPS + 1):
                V_new = self.backup(P, R, terminal, V, values["gamma"]).max(axis=1)
                if np.max(np.abs(V_new - V)) < CONVERGED:
                    return sweep
                V = V_new
        except Exception:  # the redraw shows the error
            return values["sweeps"]
        return MAX_SWEEPS

    def draw(self, *, map: str, gamma: float, slip: float, step_reward: float, epsilon: float,
             sweeps: int) -> dict[str, Any]:
        desc = self.maps[map]["desc"]
        state: dict[str, Any] = {"map": map, "gamma": gamma, "slip": slip, "step_reward": step_reward,
                                 "epsilon": epsilon, "sweeps": int(sweeps), "V": None, "Q": None, "policy": None,
                                 "change": None, "changed": None, "V_eps": None, "terminal": None, "error": None}
        try:
            P, R, terminal = self.mdp(map, slip, step_reward)
            V = np.zeros(len(terminal))
            previous = np.argmax(self.backup(P, R, terminal, V, gamma), axis=1)
            policy, change = previous, None
            for _ in range(int(sweeps)):
                Q_old = self.backup(P, R, terminal, V, gamma)
                V_new = Q_old.max(axis=1)
                change, V = float(np.max(np.abs(V_new - V))), V_new
                previous = np.argmax(Q_old, axis=1)
            Q = self.backup(P, R, terminal, V, gamma)
            policy = np.argmax(Q, axis=1)
            V_eps = None
            if gamma < 1.0:
                eps_policy = np.full(Q.shape, epsilon / Q.shape[1])
                eps_policy[np.arange(len(policy)), policy] += 1.0 - epsilon
                V_eps = np.asarray(self.policy_evaluation(P, R, terminal, eps_policy, gamma), dtype=float)
                if V_eps.shape != V.shape:
                    raise ValueError(f"policy_evaluation: expected values of shape {V.shape}, got {V_eps.shape}")
        except Exception as exc:  # show the student's error in the widget, don't crash it
            state["error"] = str(exc) if isinstance(exc, ValueError) and "expected" in str(exc) else describe_error(exc)
            for ax in self.view.axes:
                ax.text(0.5, 0.5, state["error"], ha="center", va="center", color="C3", wrap=True,
                        transform=ax.transAxes, fontsize=9)
                ax.set(xticks=[], yticks=[])
            state["status"] = f"<b style='color:#c00'>{state['error']}</b>"
            return state
        changed = int(np.sum(policy != previous)) if sweeps else None
        state.update(V=V, Q=Q, policy=policy, change=change, changed=changed, V_eps=V_eps, terminal=terminal)
        shown = [V] + ([V_eps] if V_eps is not None else [])
        low, high = min(float(v.min()) for v in shown), max(float(v.max()) for v in shown)
        high = high if high > low else low + 1.0
        titles = (f"V after {int(sweeps)} sweeps, greedy arrows", f"V of the ε-greedy policy (ε = {epsilon:g})")
        for ax, values, title in zip(self.view.axes, (V, V_eps), titles, strict=True):
            if values is None:
                ax.text(0.5, 0.5, "γ = 1: the ε-greedy policy may never end an episode,\nso its value is "
                        "evaluated for γ < 1 only", ha="center", va="center", transform=ax.transAxes, fontsize=9)
                ax.set(xticks=[], yticks=[], title=title)
                continue
            self._draw_grid(ax, desc, values, policy, terminal, low, high)
            ax.set_title(title)
        start = next((i for i, ch in enumerate("".join(desc)) if ch == "S"), 0)
        step = ("no sweep yet: V = 0, the arrows follow the immediate rewards" if not sweeps else
                f"last sweep: largest change {change:.2g}, {changed} greedy action(s) changed")
        eps_text = (f"; the ε-greedy policy: V(start) = {V_eps[start]:.4g}" if V_eps is not None else "")
        state["status"] = f"{step}<br>V(start) = {V[start]:.4g}{eps_text}"
        return state

    @staticmethod
    def _draw_grid(ax: Any, desc: list[str], values: np.ndarray, policy: np.ndarray, terminal: np.ndarray,
                   low: float, high: float) -> None:
        nrow, ncol = len(desc), len(desc[0])
        ax.imshow(values.reshape(nrow, ncol), cmap="viridis", vmin=low, vmax=high)
        small = nrow * ncol > 40
        for s in range(nrow * ncol):
            r, c = divmod(s, ncol)
            letter = desc[r][c]
            text = letter if terminal[s] else ARROWS[int(policy[s])]
            shade = (values[s] - low) / (high - low)
            ax.text(c, r, text, ha="center", va="center", fontsize=9 if small else 13,
                    color="k" if shade > 0.6 else "w")
        ax.set(xticks=[], yticks=[])


def gridworld_explorer(frozen_lake: Callable[..., Any], q_from_v: Callable[..., Any],
                       policy_evaluation: Callable[..., Any], maps: Mapping[str, Any], **options: Any
                       ) -> GridworldExplorer:
    """Build the gridworld explorer on your ``frozen_lake``, ``q_from_v`` and ``policy_evaluation``.

    Args:
        frozen_lake: ``frozen_lake(desc, slip, step_reward, hole_reward, goal_reward) -> (P, R, terminal)``.
        q_from_v: ``q_from_v(P, R, terminal, V, gamma) -> Q``.
        policy_evaluation: ``policy_evaluation(P, R, terminal, policy, gamma) -> V``.
        maps: name -> list of row strings, or ``{"desc": [...], "hole_reward": h, "goal_reward": g}``.
        **options: ``map`` (the first), ``gamma`` (0.9; one of ``DISCOUNTS``), ``slip`` (0; one of the
            values in ``SLIPS``), ``step_reward`` (0), ``epsilon`` (0.1), ``sweeps`` (0).
    """
    return GridworldExplorer(frozen_lake, q_from_v, policy_evaluation, maps, **options)
