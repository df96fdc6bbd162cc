"""Fit ``EyeConfig.wink_at``, ``wink_onset`` and ``wink_iris_rise`` (vtuber/solvers/eyes.py: when
one eye closes on its own, the other open) on the face corpus's TRAINING identities only
(docs/face_corpus.md), with a leave-one-identity-out check.

Both eyes closing together close at ``close_at`` (0.45); one eye alone only from ``wink_at`` up,
unless it read open (closure at most ``wink_onset``) on each of the two frames before, when it
closes from ``close_at`` too; and it reads open while its iris centre sits more than
``wink_iris_rise`` eye widths above the user's iris rest (a closing lid takes FaceMesh's iris
down with it). A person closes one eye alone deliberately and fully (a wink), and a wink starts
from an open eye; a lone partial dip that builds up over frames, or one under an iris that does
not move, is more often the landmarker misreading one eye. ``wink_at`` = ``close_at``, a negative
``wink_onset`` and an infinite ``wink_iris_rise`` are the rule before each. The triple chosen
maximises the mean F1 over the training eyes (ties: the worst eye's F1, fewer false blinks, then
the first in the grid, whose order puts the rules off or the most lenient values first), among
the ``wink_iris_rise`` above the iris's height on every closed eye frame of the training faces
(the rule must not contradict a real closure: the iris drops with the lid only once the lid is
nearly shut, and the last frames of a closure are close to the rest). The
script records each performance's raw closures and iris offsets once with vtuber's Tracker (no
smoothing; the blink rule does not feed back into what the Tracker learns), replays them through
a fresh :class:`vtuber.solvers.eyes.EyeSolver` per candidate (checked equal to what the Tracker
sent) and scores blink F1 and false blinks while the head turns (vtuber.synth.scoring). It also
prints how far the iris sits above its rest on closed eyes, open eyes, and the open eyes that
read closed alone. It refuses validation faces.

    .venv/bin/python benchmarks/fit_blink_wink.py [--seeds 2]
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

from _common import fitting_options, training_landmarks  # noqa: E402

from vtuber.config import TrackConfig  # noqa: E402
from vtuber.solvers.eyes import EyeConfig, EyeSolver  # noqa: E402
from vtuber.synth import corpus, scoring  # noqa: E402
from vtuber.tracker import Tracker  # noqa: E402

WINK_AT = (0.45, 0.5, 0.55, 0.6, 0.7, 0.8)
WINK_ONSET = (-1.0, 0.0, 0.05, 0.1, 0.2)  # -1: no onset rule
IRIS_RISE = (math.inf, 0.03, 0.02, 0.01, 0.0)  # inf: no iris rule
GRID = [(w, o, r) for w in WINK_AT for o in WINK_ONSET for r in IRIS_RISE]
Seen = list[tuple[tuple[float, float], np.ndarray, np.ndarray]]


def record(lms: list) -> tuple[scoring.Sent, Seen]:  # type: ignore[type-arg]
    """What the Tracker sends, and what its eye solver got per frame with a face: the raw
    closures (before linking), the iris offsets and the iris rest offset."""
    tracker = Tracker(TrackConfig())
    eyes = tracker.face.eyes
    seen: Seen = []
    update = eyes.update

    def spy(closure, offsets, rest_offset):  # type: ignore[no-untyped-def]
        seen.append((closure, offsets.copy(), rest_offset.copy()))
        return update(closure, offsets, rest_offset)

    eyes.update = spy  # type: ignore[method-assign]
    sent = scoring.track(lms, tracker=tracker)
    return sent, seen


def replay(sent: scoring.Sent, seen: Seen, cfg: EyeConfig) -> np.ndarray:
    """The blinkLeft / blinkRight the eye rule ``cfg`` would send on those frames."""
    solver = EyeSolver(cfg)
    blink = np.zeros_like(sent.blink)
    rows = np.nonzero(sent.found)[0]
    assert len(rows) == len(seen), "one record per frame with a face"
    for i, (c, offsets, rest) in zip(rows, seen, strict=True):
        blink[i] = solver.update(c, offsets, rest).blink
    return blink


def iris_rise(seq: corpus.Sequence, sent: scoring.Sent, seen: Seen) -> dict[str, list[float]]:
    """The iris centre's height above its rest (eye widths) on closed eyes (truth >= 0.8), on
    the eyes closed alone that read closed (truth >= 0.5, closure >= 0.45, the other eye's below
    0.35: what the iris rule could veto), on open eyes (2 frames from any closure) and on the
    open eyes whose closure alone reads >= 0.45."""
    out: dict[str, list[float]] = {
        "closed": [],
        "closed alone": [],
        "open": [],
        "open, read closed": [],
    }
    rows = np.nonzero(sent.found)[0]
    for i, (c, offsets, rest) in zip(rows, seen, strict=True):
        for e in (0, 1):
            rise = float(offsets[e, 1] - rest[e, 1])
            near = seq.eye_close[max(i - 2, 0) : i + 3, e]
            if seq.eye_close[i, e] >= 0.5 and c[e] >= 0.45 and c[1 - e] < 0.35:
                out["closed alone"].append(rise)
            if seq.eye_close[i, e] >= 0.8:
                out["closed"].append(rise)
            elif not np.any(near > 0.0):
                out["open"].append(rise)
                if c[e] >= 0.45 and c[1 - e] < 0.35:
                    out["open, read closed"].append(rise)
    return out


def main(argv: list[str] | None = None) -> int:
    args = fitting_options(__doc__.split("\n")[0]).parse_args(argv)
    corpus.begin_fitting()
    performances = training_landmarks(args)
    if not performances:
        return 1
    names = list(dict.fromkeys(name for name, _, _, _ in performances))
    base = Tracker(TrackConfig()).face.eye_config
    committed = (base.wink_at, base.wink_onset, base.wink_iris_rise)
    # (name, k) -> per grid value: (F1 of each eye, false blinks)
    table: dict[tuple[str, int], list[tuple[list[float], int]]] = {}
    rises: dict[str, list[float]] = {}
    highest: dict[tuple[str, int], float] = {}  # the iris's height on a closed eye, at most
    for name, k, seq, lms in performances:
        sent, seen = record(lms)
        assert np.array_equal(replay(sent, seen, base), sent.blink), "replay differs"
        for kind, v in iris_rise(seq, sent, seen).items():
            rises.setdefault(kind, []).extend(v)
            if kind == "closed":
                highest[name, k] = max(v, default=-math.inf)
        row = []
        for w, o, r in GRID:
            cfg = dataclasses.replace(base, wink_at=w, wink_onset=o, wink_iris_rise=r)
            s = scoring.score(seq, dataclasses.replace(sent, blink=replay(sent, seen, cfg)))
            row.append((list(s.blink_f1), s.false_blinks_turning))
        table[name, k] = row

    def f1s(keys: list[tuple[str, int]], gi: int) -> list[float]:
        return [f for key in keys for f in table[key][gi][0]]

    def false_blinks(keys: list[tuple[str, int]], gi: int) -> int:
        return sum(table[key][gi][1] for key in keys)

    def best(keys: list[tuple[str, int]]) -> int:
        # The iris rule must not contradict what a closed eye does: its margin lies above the
        # iris's height on every closed eye frame of these performances (lone or not).
        top = max(highest[key] for key in keys)
        return max(
            (gi for gi, (_, _, r) in enumerate(GRID) if r > top),
            key=lambda gi: (
                round(float(np.mean(f1s(keys, gi))), 6),
                min(f1s(keys, gi)),
                -false_blinks(keys, gi),
                -gi,
            ),
        )

    print("the iris centre above its rest (eye widths), percentiles 5 / 25 / 50 / 75 / 95 / 100:")
    for kind, v in rises.items():
        q = " / ".join(f"{x:+.3f}" for x in np.percentile(v, [5, 25, 50, 75, 95, 100]))
        print(f"  {kind:18s} {q}  ({len(v)} eye frames)")
    keys = list(table)
    print(f"highest on a closed eye: {max(highest.values()):+.3f} (iris rules allowed above it)")
    print(
        f"\n{'wink_at':>7s} {'onset':>5s} {'rise':>5s} {'mean F1':>7s} {'min F1':>6s} {'false':>5s}"
    )
    for gi, (w, o, r) in enumerate(GRID):
        f, fb = f1s(keys, gi), false_blinks(keys, gi)
        print(f"{w:7.2f} {o:5.2f} {r:5.2f} {np.mean(f):7.4f} {min(f):6.3f} {fb:5d}")
    ci = GRID.index(committed) if committed in GRID else 0
    print(
        "\nleave one identity out: the held-out face's eyes at the values fitted on the others "
        "(and at the committed {:.2f} / {:.2f} / {:.2f})".format(*committed)
    )
    for name in names:
        held = [key for key in keys if key[0] == name]
        gi = best([key for key in keys if key[0] != name])
        f, fc = f1s(held, gi), f1s(held, ci)
        print(
            "  {:15s} {:.2f} / {:.2f} / {:.2f}: mean F1 ".format(name, *GRID[gi])
            + f"{np.mean(f):.3f}, min {min(f):.3f}, false blinks {false_blinks(held, gi)} "
            f"(committed: {np.mean(fc):.3f}, {min(fc):.3f}, {false_blinks(held, ci)})"
        )
    print(
        "\nfitted on all training faces: wink_at = {:.2f}, wink_onset = {:.2f}, "
        "wink_iris_rise = {:.2f}".format(*GRID[best(keys)])
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
