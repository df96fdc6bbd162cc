"""Who is the performer: lock-on to one person, or two performers in one camera.

A landmark backend that looks for several faces (``FaceMeshBackend(max_faces=n)``) returns every
person it found in ``Landmarks.people``, in MediaPipe's order, which changes from frame to frame.
:class:`PerformerTracker` gives each person a stable track (face position and size continuity,
plus a colour-histogram appearance cue for a person who comes back after an occlusion or a short
exit) and holds each performer *slot* on one track:

* A slot locks on the largest, most central face when it has none (or the face chosen with
  :meth:`PerformerTracker.choose`, e.g. a click in the preview). With two slots locking at once,
  slot 0 is the person further left in the camera image.
* While its person is out of view the slot reports no face (the smoothing stage holds, then eases
  the avatar to rest); it does not take anyone else until its person has been gone
  ``relock_after`` seconds. A returning person is recognised by appearance and gets their slot
  back.

:class:`PerformerBackend` wraps a landmark backend: its ``process`` returns slot 0's person as the
ordinary single-person :class:`Landmarks` (so the rest of the pipeline is unchanged) with every
slot's person in ``performers``. It also keeps the cheap one-face MediaPipe graph running while
nothing but the locked performers is in view (docs/performers.md).

This module knows nothing of MediaPipe: it works on the landmark records and the BGR image.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber.errors import ConfigError
from vtuber.landmarks import Landmarks

U8 = NDArray[np.uint8]
F32 = NDArray[np.float32]

# Appearance: an HSV colour histogram of the head region (face, hair, a little of the neck).
HIST_BINS = (12, 4, 4)
# Tracking constants (chosen on the test compositions built from the shared clip and the TRAINING
# renders, docs/performers.md).
CONTINUOUS_S = 0.3  # a track seen this recently is matched by position first
MAX_STEP = 1.2  # ... if its face moved at most this many face sizes since
APPEARANCE_WEIGHT = 2.0  # cost = position + size change + weight * appearance distance
RETURN_GATE = 0.45  # a track seen longer ago takes a face only by appearance (distance below)
APPEARANCE_RATE = 0.05  # exponential update of a track's appearance when its face is clear
QUIET_S = 2.0  # the one-face fast path resumes after this long with no one else in view
FORGET_S = 30.0  # unused tracks are forgotten after this long out of view
MAX_TRACKS = 8  # ... or sooner, oldest first, beyond this many
REACH = 4.5  # full mode: body and hands within this many face sizes either side of the face
BODY_MEMORY_S = 10.0  # full mode: someone seen this recently bounds the performer's region
BODY_MARGIN = 1.0  # full mode: ... and within this many face sizes of where their body last was
BODY_STALE_S = 2.0  # ... if that was at most this long ago (else the REACH column)
BODY_PAD = 0.25  # others bound the region, but never within this many face sizes of the body
VISIBLE = 0.5  # a pose point counts for the body's extent when its visibility is above this


class MultiFaceBackend(Protocol):
    def process(self, bgr: U8, t: float) -> Landmarks: ...

    def close(self) -> None: ...


# A backend may also have set_max_faces(n) (how many faces to look for), focus(region, strict)
# (full mode: pose and hands see only that normalized region; strict: a hand must be at its own
# pose wrist) and focus_slots(regions) (one region per slot); PerformerBackend uses them if present.


@dataclass(slots=True)
class Detection:
    """One person's face in one frame: box centre and size in pixels, appearance histogram."""

    index: int
    cx: float
    cy: float
    size: float
    hist: F32 | None


@dataclass(slots=True)
class Track:
    id: int
    cx: float
    cy: float
    size: float
    hist: F32 | None
    last_seen: float


@dataclass(slots=True)
class Slot:
    track: int | None = None
    lost_since: float | None = None
    seen_since: float | None = None  # in view without a break since
    # Full mode: the track whose body was last seen, its x extent relative to their face (left
    # and right edge minus the face's centre, in face sizes) and when.
    body: tuple[int, float, float, float] | None = None


def body_extent(lm: Landmarks) -> tuple[float, float] | None:
    """Horizontal extent (pixels) of a person's body in one frame: their visible pose points and
    their hands' points; None without a pose."""
    if not lm.pose.found:
        return None
    pts = lm.pose.points
    xs = [pts[pts[:, 3] > VISIBLE, 0]]
    xs += [h.points[:, 0] for h in (lm.left_hand, lm.right_hand) if h.found]
    x = np.concatenate(xs)
    if not x.size:
        return None
    return float(x.min()) * lm.width, float(x.max()) * lm.width


def face_box(points: F32, width: int, height: int) -> tuple[float, float, float, float, float]:
    """(cx, cy, size, w, h) of a face's landmark bounding box, pixels; size = max(w, h)."""
    lo, hi = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    x0, x1 = float(lo[0]) * width, float(hi[0]) * width
    y0, y1 = float(lo[1]) * height, float(hi[1]) * height
    w, h = x1 - x0, y1 - y0
    return 0.5 * (x0 + x1), 0.5 * (y0 + y1), max(w, h, 1.0), w, h


def appearance(
    image: U8, points: F32, box: tuple[float, float, float, float, float] | None = None
) -> F32 | None:
    """Normalised HSV histogram of the head around a face (the face's box widened by a quarter
    each side and raised by half its height for the hair); None if the region is empty.
    ``box``: :func:`face_box` of ``points`` if already computed."""
    h, w = image.shape[:2]
    cx, cy, _, bw, bh = box if box is not None else face_box(points, w, h)
    x0, x1 = int(max(cx - 0.75 * bw, 0)), int(min(cx + 0.75 * bw, w))
    y0, y1 = int(max(cy - bh, 0)), int(min(cy + 0.6 * bh, h))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    # 48x48 samples are plenty (nearest neighbour: no new colours, ~20 us).
    small = cv2.resize(image[y0:y1, x0:x1], (48, 48), interpolation=cv2.INTER_NEAREST)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(HIST_BINS), [0, 180, 0, 256, 0, 256])
    hist = hist.ravel().astype(np.float32)
    total = float(hist.sum())
    return hist / total if total > 0 else None


def appearance_distance(a: F32 | None, b: F32 | None) -> float:
    """Bhattacharyya (Hellinger) distance of two normalised histograms, 0 (same) .. 1; 0.5 when
    either is unknown."""
    if a is None or b is None:
        return 0.5
    bc = float(np.sqrt(a * b).sum())
    return math.sqrt(max(0.0, 1.0 - bc))


class PerformerTracker:
    """Stable identities for the people in view and ``count`` performer slots held on them.

    Args:
        count: how many performers (avatars) to drive.
        relock_after: seconds a slot's person must be out of view before the slot takes someone
            else.
    """

    def __init__(self, count: int = 1, relock_after: float = 5.0) -> None:
        if count < 1:
            raise ConfigError(f"--performers must be at least 1, got {count}")
        if not relock_after >= 0:
            raise ConfigError(f"--relock-after must be 0 or more seconds, got {relock_after}")
        self.count = count
        self.relock_after = relock_after
        self.tracks: dict[int, Track] = {}
        self.slots = [Slot() for _ in range(count)]
        self._next_id = 0
        self._others_seen = -math.inf  # last time a face not held by a slot was in view
        self.others_in_view = False  # a face not held by a slot is in view this frame
        self._chosen: tuple[int, float, float] | None = None
        self.assignment: dict[int, int] = {}  # track id -> person index, this frame
        self._t = 0.0

    # -- identities -----------------------------------------------------------------------------

    def _detections(self, people: list[Landmarks], image: U8 | None) -> list[Detection]:
        dets = []
        for i, p in enumerate(people):
            if not p.face.found:
                continue
            box = face_box(p.face.points, p.width, p.height)
            hist = appearance(image, p.face.points, box) if image is not None else None
            cx, cy, size = box[:3]
            dets.append(Detection(i, cx, cy, size, hist))
        return dets

    def _cost(self, tr: Track, d: Detection, t: float) -> float:
        app = appearance_distance(tr.hist, d.hist)
        if t - tr.last_seen <= CONTINUOUS_S:
            step = math.hypot(d.cx - tr.cx, d.cy - tr.cy) / max(tr.size, d.size)
            if step > MAX_STEP:
                return math.inf
            return step + abs(math.log(d.size / tr.size)) + APPEARANCE_WEIGHT * app
        # Seen a while ago: position says little; appearance decides.
        if app > RETURN_GATE:
            return math.inf
        return 1.0 + APPEARANCE_WEIGHT * app

    def _match(self, dets: list[Detection], t: float) -> dict[int, Detection]:
        """Track id -> detection, the assignment of least total cost (few people: exhaustive)."""
        ids = list(self.tracks)
        cost = {(k, j): self._cost(self.tracks[k], d, t) for k in ids for j, d in enumerate(dets)}
        best: tuple[int, float, list[tuple[int, int]]] = (0, 0.0, [])
        n = min(len(ids), len(dets))
        for r in range(n, 0, -1):
            for tr_ids in itertools.permutations(ids, r):
                for det_js in itertools.combinations(range(len(dets)), r):
                    pairs = list(zip(tr_ids, det_js, strict=True))
                    total = sum(cost[p] for p in pairs)
                    if math.isinf(total):
                        continue
                    if (r, -total) > (best[0], -best[1]) or not best[2]:
                        best = (r, total, pairs)
            if best[2]:
                break
        return {k: dets[j] for k, j in best[2]}

    def _update_tracks(self, dets: list[Detection], t: float) -> None:
        matched = self._match(dets, t)
        used = set()
        for k, d in matched.items():
            tr = self.tracks[k]
            used.add(d.index)
            clear = all(
                math.hypot(o.cx - d.cx, o.cy - d.cy) > 0.8 * (o.size + d.size)
                for o in dets
                if o is not d
            )
            if d.hist is not None and clear:
                tr.hist = (
                    d.hist
                    if tr.hist is None
                    else ((1 - APPEARANCE_RATE) * tr.hist + APPEARANCE_RATE * d.hist)
                )
            tr.cx, tr.cy, tr.size, tr.last_seen = d.cx, d.cy, d.size, t
        for d in dets:
            if d.index not in used:
                k = self._next_id
                self._next_id += 1
                self.tracks[k] = Track(k, d.cx, d.cy, d.size, d.hist, t)
                matched[k] = d
        held = {s.track for s in self.slots}
        idle = sorted(
            (k for k in self.tracks if k not in held and k not in matched),
            key=lambda k: self.tracks[k].last_seen,
        )
        excess = len(self.tracks) - MAX_TRACKS  # the oldest go first
        for n, k in enumerate(idle):
            if n < excess or t - self.tracks[k].last_seen > FORGET_S:
                del self.tracks[k]
        self.assignment = {k: d.index for k, d in matched.items()}

    # -- slots ----------------------------------------------------------------------------------

    def choose(self, x: float, y: float, slot: int = 0) -> None:
        """Lock ``slot`` on the person whose face is nearest the normalised image point (x, y)
        on the next frame (a click in the preview)."""
        if not 0 <= slot < self.count:
            raise ConfigError(f"performer slot {slot} does not exist (0..{self.count - 1})")
        self._chosen = (slot, x, y)

    def _score(self, tr: Track, width: int, height: int) -> float:
        """Largest, most central: face size over (1 + distance from the image centre)."""
        off = math.hypot(tr.cx / width - 0.5, tr.cy / height - 0.5)
        return tr.size / max(width, height) / (1.0 + 2.0 * off)

    def _update_slots(self, t: float, width: int, height: int) -> None:
        visible = [k for k in self.assignment]
        if self._chosen is not None and visible:
            slot, x, y = self._chosen
            self._chosen = None
            k = min(visible, key=lambda k: math.hypot(self.tracks[k].cx / width - x,
                                                      self.tracks[k].cy / height - y))  # fmt: skip
            for s in self.slots:
                if s.track == k:
                    s.track, s.lost_since = None, None
            self.slots[slot].track, self.slots[slot].lost_since = k, None
            self.slots[slot].seen_since = t
        for s in self.slots:
            if s.track is None:
                continue
            if s.track in self.assignment:
                s.lost_since = None
                if s.seen_since is None:
                    s.seen_since = t
                continue
            s.seen_since = None
            if s.lost_since is None:
                s.lost_since = self.tracks[s.track].last_seen
            elif t - s.lost_since > self.relock_after:
                s.track, s.lost_since = None, None

        free = [s for s in self.slots if s.track is None]
        if not free:
            return
        held = {s.track for s in self.slots}
        cands = sorted(
            (k for k in visible if k not in held),
            key=lambda k: -self._score(self.tracks[k], width, height),
        )[: len(free)]
        if len(free) == self.count:  # locking from scratch: slot order = left to right
            cands.sort(key=lambda k: self.tracks[k].cx)
        for s, k in zip(free, cands, strict=False):
            s.track, s.lost_since, s.seen_since = k, None, t

    def update(
        self, people: list[Landmarks], t: float, image: U8 | None = None
    ) -> list[int | None]:
        """The person index (into ``people``) of each slot this frame, None for a slot whose
        person is not in view. ``image``: the BGR frame (for the appearance cue)."""
        self._t = t
        dets = self._detections(people, image)
        self._update_tracks(dets, t)
        if people:
            self._update_slots(t, people[0].width, people[0].height)
        else:
            self._update_slots(t, 1, 1)
        held = {s.track for s in self.slots}
        self.others_in_view = any(k not in held for k in self.assignment)
        if self.others_in_view:
            self._others_seen = t
        return [self.assignment.get(s.track) if s.track is not None else None for s in self.slots]

    def see_body(self, slot: int, person: Landmarks, t: float) -> None:
        """Full mode: ``slot``'s record this frame, with the pose and hands given to that
        person; where their body is bounds :meth:`region` for the next frames."""
        k = self.slots[slot].track
        ext = body_extent(person) if person.face.found else None
        if ext is None or k is None or k not in self.tracks:
            return
        tr = self.tracks[k]
        x0 = min(ext[0], tr.cx - 0.5 * tr.size)  # the face is part of the body
        x1 = max(ext[1], tr.cx + 0.5 * tr.size)
        self.slots[slot].body = (k, (x0 - tr.cx) / tr.size, (x1 - tr.cx) / tr.size, t)

    def region(
        self, slot: int, width: int, height: int
    ) -> tuple[float, float, float, float] | None:
        """The normalized image region where ``slot``'s person's body can be, from a face above
        their head to the bottom of the image; None if the slot holds no one.

        Across: where their body (visible pose points, hands, face) last was relative to their
        face, widened by :data:`BODY_MARGIN` face sizes each side (the next frame's motion,
        finger tips); without a body seen in the last :data:`BODY_STALE_S`, their face's column
        widened to arm's reach (:data:`REACH` face sizes each side). Someone walking in shows
        their body before their face is found: the performer cannot reach it from where their
        body is, so the region need not hold it. Anyone else seen within
        :data:`BODY_MEMORY_S` bounds it at the midpoint between the two faces, but not within
        :data:`BODY_PAD` face sizes of the performer's own body: a smaller person farther back,
        or one half behind the performer, has their midpoint inside the performer's body."""
        k = self.slots[slot].track
        if k is None or k not in self.tracks:
            return None
        tr = self.tracks[k]
        x0, x1 = tr.cx - REACH * tr.size, tr.cx + REACH * tr.size
        own0, own1 = math.inf, -math.inf  # the body's own extent (nothing known: empty)
        body = self.slots[slot].body
        if body is not None and body[0] == k and self._t - body[3] <= BODY_STALE_S:
            own0, own1 = tr.cx + body[1] * tr.size, tr.cx + body[2] * tr.size
            x0 = max(x0, own0 - BODY_MARGIN * tr.size)
            x1 = min(x1, own1 + BODY_MARGIN * tr.size)
        pad = BODY_PAD * tr.size
        for o in self.tracks.values():
            if o.id == k or self._t - o.last_seen > BODY_MEMORY_S:
                continue
            mid = 0.5 * (tr.cx + o.cx)
            if o.cx > tr.cx:
                x1 = min(x1, max(mid, own1 + pad))
            else:
                x0 = max(x0, min(mid, own0 - pad))
        return (x0 / width, (tr.cy - 1.5 * tr.size) / height, x1 / width, 1.0)

    def others_recent(self, t: float, within: float = BODY_MEMORY_S) -> bool:
        """Whether a face not held by a slot was in view within ``within`` seconds."""
        return t - self._others_seen <= within

    def quiet(self, t: float, quiet_s: float = QUIET_S) -> bool:
        """Every slot's person in view and no one else for :data:`QUIET_S`: the landmark
        backend may look for just ``count`` faces. (Switching graphs restarts MediaPipe's face
        tracking from detection, a small jolt: it is not done right after someone appears.)"""
        all_in = all(
            s.track in self.assignment and s.seen_since is not None and t - s.seen_since > QUIET_S
            for s in self.slots
        )
        return all_in and t - self._others_seen > quiet_s


@dataclass
class PerformerBackend:
    """A landmark backend that returns the performers' landmarks (see the module docstring).

    ``backend`` must list every person in ``Landmarks.people`` when it looks for several faces;
    if it has ``set_max_faces`` it is switched between ``count`` faces (fast, while
    :meth:`PerformerTracker.quiet`) and ``count + 1`` (otherwise: someone else may be in view).
    """

    backend: MultiFaceBackend
    tracker: PerformerTracker
    adaptive: bool = True
    name: str = field(default="performers")
    _wide: bool = field(default=True, init=False)
    _prev: U8 | None = field(default=None, init=False)  # the previous frame (graph priming)

    def __post_init__(self) -> None:
        self._set_faces(self.tracker.count + 1)

    def _set_faces(self, n: int, bgr: U8 | None = None, t: float = 0.0) -> None:
        setter = getattr(self.backend, "set_max_faces", None)
        if setter is not None:
            setter(n)
            face = getattr(self.backend, "face", self.backend)  # full mode: its face backend
            if bgr is not None and self._prev is not None and hasattr(face, "process"):
                # The other graph starts from face detection, whose region differs from the one
                # tracking derives from the last landmarks (1-3 px for a second or more, up to
                # 2-3 deg of head on a moving face). Prime it as the old graph got here: detect
                # on the previous frame, then track this frame from that frame's landmarks; the
                # next frame is then tracked from this frame's landmarks, as without a switch
                # (measured on the lock-on test scene: ~0.3 px from the unswitched run's
                # landmarks from the second frame on; priming twice on this frame left 1.2-1.7
                # px; docs/performers.md).
                face.process(self._prev, t)
                face.process(bgr, t)
        self._wide = n > self.tracker.count

    @property
    def wide(self) -> bool:
        """Whether the backend looks for one face more than there are performers now."""
        return self._wide

    @property
    def prefetch_depth(self) -> int:
        """How many frames ahead the backend reads (:meth:`prefetch`)."""
        return int(getattr(self.backend, "prefetch_depth", 1))

    def prefetch(self, bgr: U8) -> None:
        """The frame ``process`` gets next, to the backend if it reads ahead (full mode's
        Pose; :class:`vtuber.lookahead.LookAhead`), after this frame's focus is set."""
        prefetch = getattr(self.backend, "prefetch", None)
        if prefetch is not None:
            prefetch(bgr)

    def process(self, bgr: U8, t: float) -> Landmarks:
        lm = self.backend.process(bgr, t)
        people = lm.people if lm.people else ([lm] if lm.face.found else [])
        idx = self.tracker.update(people, t, bgr)
        # Each slot's record carries its person's id, also while they are out of view: the
        # tracker keeps what it learned of them (3D head reference, rest face) for their return.
        ids = [s.track for s in self.tracker.slots]
        slots = [
            replace(people[i], people=[], performers=[], person=k)
            if i is not None
            else Landmarks(t=lm.t, width=lm.width, height=lm.height, person=k)
            for i, k in zip(idx, ids, strict=True)
        ]
        focus_slots = getattr(self.backend, "focus_slots", None)
        focus = getattr(self.backend, "focus", None)
        if focus_slots is not None or focus is not None:  # full mode: where each body is
            for k, rec in enumerate(slots):
                self.tracker.see_body(k, rec, t)
        if focus_slots is not None:  # full mode, several performers: a region per slot
            focus_slots([self.tracker.region(k, lm.width, lm.height) for k in range(len(idx))])
        if focus is not None and self.tracker.count == 1:
            # Full mode: pose and hands see only the performer's region (someone else may be
            # in view unseen: the one-face graph does not look for them); a hand must be at its
            # own pose wrist only while someone else is around (alone, the check only loses the
            # performer's own hands where the pose's wrist is off: docs/performers.md).
            focus(self.tracker.region(0, lm.width, lm.height), self.tracker.others_recent(t))
        if self.adaptive:
            # Full mode keeps watching others longer: their place bounds the body's region.
            full = focus is not None or focus_slots is not None
            quiet = self.tracker.quiet(t, BODY_MEMORY_S if full else QUIET_S)
            if self._wide and quiet:
                self._set_faces(self.tracker.count, bgr, t)
            elif not self._wide and self.tracker.others_in_view:
                # Someone else holds one of the graph's faces: a performer coming back would not
                # be detected. (A performer merely out of view leaves a face free, so MediaPipe
                # runs its detector on every frame and finds them when they return: no switch.)
                self._set_faces(self.tracker.count + 1, bgr, t)
        self._prev = bgr
        return replace(slots[0], people=list(lm.people), performers=slots)

    def close(self) -> None:
        self.backend.close()
