"""Per-frame gesture recognition with hysteresis (docs/gestures.md).

Every frame: each found hand's features go through the classifier (:mod:`vtuber.gestures.model`)
and the body pose through the pose rules (:mod:`vtuber.gestures.poses`). A gesture is *seen* in a
frame when its class wins with probability >= ``on_threshold`` (to start) or >= ``off_threshold``
(to continue). :class:`Debouncer` turns what is seen into stable start/end edges:

- a gesture starts once it has been seen, uninterrupted, for ``min_hold`` seconds (source time);
- it ends once it has not been seen for ``release`` seconds (one dropped frame does not end it);
- after it ends, it cannot start again for ``cooldown`` seconds;
- one hand shows one gesture at a time: a hand's new gesture ends that hand's previous one.

Names carry the person's own hand (``thumbs_up_right`` is the user's right hand under both mirror
settings; docs/gestures.md explains why).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vtuber.gestures.features import hand_features
from vtuber.gestures.model import NONE, GestureModel, load_builtin
from vtuber.gestures.poses import PoseRecognizer
from vtuber.landmarks import Landmarks

SIDES = ("left", "right")


@dataclass
class RecognizerSettings:
    """Thresholds and timing (seconds of source time)."""

    min_hold: float = 0.1
    release: float = 0.12
    cooldown: float = 0.3
    on_threshold: float = 0.8
    off_threshold: float = 0.5
    hands: bool = True
    body: bool = True


@dataclass
class Edge:
    """A gesture started (``active``) or ended. ``t`` is the frame time it happened at,
    ``held_since`` the time it was first seen (start edges: ``t - held_since`` >= min_hold)."""

    name: str
    active: bool
    t: float
    held_since: float


@dataclass
class _State:
    seen_since: float | None = None
    last_seen: float = -1e9
    active: bool = False
    ended_at: float = -1e9
    held_since: float = 0.0


def _side_of(name: str) -> str | None:
    for s in SIDES:
        if name.endswith("_" + s):
            return s
    return None


@dataclass
class Debouncer:
    """Seen-per-frame names -> start/end edges (see the module doc)."""

    settings: RecognizerSettings = field(default_factory=RecognizerSettings)
    states: dict[str, _State] = field(default_factory=dict)
    # Names of which a hand shows one at a time (the hand classifier's; body poses are free).
    solo: set[str] = field(default_factory=set)

    def update(self, t: float, strong: set[str], weak: set[str]) -> list[Edge]:
        """``strong``: names seen confidently enough to start; ``weak``: to continue."""
        s = self.settings
        edges: list[Edge] = []
        for name in strong | weak:
            self.states.setdefault(name, _State())
        for name, st in self.states.items():
            if st.active:
                if name in weak or name in strong:
                    st.last_seen = t
                elif t - st.last_seen >= s.release - 1e-9:
                    st.active, st.ended_at, st.seen_since = False, t, None
                    edges.append(Edge(name, False, t, st.held_since))
                continue
            if name not in strong:
                st.seen_since = None
                continue
            if st.seen_since is None:
                st.seen_since = t
            if t - st.seen_since >= s.min_hold - 1e-9 and t - st.ended_at >= s.cooldown - 1e-9:
                st.active, st.last_seen, st.held_since = True, t, st.seen_since
                # One gesture per hand: end the hand's other active gesture now.
                side = _side_of(name) if name in self.solo else None
                for other, ost in self.states.items():
                    if other == name or not ost.active or other not in self.solo:
                        continue
                    if side and _side_of(other) == side:
                        ost.active, ost.ended_at, ost.seen_since = False, t, None
                        edges.append(Edge(other, False, t, ost.held_since))
                edges.append(Edge(name, True, t, st.seen_since))
        return edges

    def active(self) -> dict[str, float]:
        """Active gesture -> the time it was first seen."""
        return {n: st.held_since for n, st in self.states.items() if st.active}


class GestureRecognizer:
    """Landmarks -> gesture start/end edges (hand classifier + body pose rules + hysteresis)."""

    def __init__(
        self, model: GestureModel | None = None, settings: RecognizerSettings | None = None
    ) -> None:
        self.settings = settings or RecognizerSettings()
        self.model = model if model is not None else load_builtin()
        self.poses = PoseRecognizer()
        self.debouncer = Debouncer(self.settings)
        # The last frame's per-hand (label, probability), for status lines and `gestures test`.
        self.last: dict[str, tuple[str, float]] = {}

    def classify(self, lm: Landmarks) -> tuple[set[str], set[str]]:
        """The names seen in one frame: (strong, weak) sets."""
        s = self.settings
        strong: set[str] = set()
        weak: set[str] = set()
        self.last = {}
        if s.hands:
            sides = [sd for sd in SIDES if (lm.left_hand if sd == "left" else lm.right_hand).found]
            if sides:  # both hands in one pass through the model
                feats = [
                    hand_features(
                        (lm.left_hand if sd == "left" else lm.right_hand).world, sd == "left"
                    )
                    for sd in sides
                ]
                probs = self.model.proba(np.stack(feats))
            for side, pr in zip(sides, probs if sides else [], strict=True):
                k = int(pr.argmax())
                label, p = self.model.classes[k], float(pr[k])
                self.last[side] = (label, p)
                if label == NONE:
                    continue
                self.debouncer.solo.add(f"{label}_{side}")
                if p >= s.on_threshold:
                    strong.add(f"{label}_{side}")
                if p >= s.off_threshold:
                    weak.add(f"{label}_{side}")
        if s.body:
            aspect = lm.width / lm.height if lm.height else 1.0
            poses = self.poses.update(lm.pose.points, lm.pose.found, aspect, lm.t, lm.pose.world)
            strong |= poses
            weak |= poses
        return strong, weak

    def update(self, lm: Landmarks) -> list[Edge]:
        strong, weak = self.classify(lm)
        return self.debouncer.update(lm.t, strong, weak)

    def active(self) -> dict[str, float]:
        return self.debouncer.active()
