"""Gesture bindings and the pipeline stage that applies them (docs/gestures.md).

The ``[gestures]`` table of the TOML config (``vtuber track --gestures --config FILE``)::

    [gestures]
    model = "my_gestures.npz"   # a model from `vtuber gestures train` (default: built-in)
    min_hold = 0.1              # seconds a gesture must be held before it starts
    release = 0.12              # seconds it must be gone before it ends
    cooldown = 0.3              # seconds after it ends before it can start again
    threshold = 0.8             # class probability needed to start (0.5 to continue)
    hands = true                # hand gestures; body = true for the body poses

    [[gestures.binding]]
    gesture = "thumbs_up"       # built-in or custom class, or a body pose
    hand = "right"              # left | right | any (default any); the person's own hand
    expression = "happy"        # a frame blendshape key (VRM 1.0 preset or custom clip)
    weight = 1.0
    key = "smile"               # a VMC key event (/VMC/Ext/Key); true = the gesture's name
    keycode = 0
    event = "sparkle"           # a WebSocket event for the viewer page
    mode = "hold"               # hold: on while held; toggle: each new gesture flips it
    min_hold = 0.3              # seconds from first held (at least the global min_hold)
    cooldown = 1.0              # seconds after it turns off before it can fire again
    blink = "block"             # keep | block | blend: VRM 1.0 overrideBlink none/block/blend
    mouth = "keep"              # same for lip sync (aa ih ou ee oh, jawOpen ...)
    look = "keep"               # same for the look shapes

Without bindings every recognised gesture is sent as a VMC key event named after it (pressed on
start, released on end) and as a viewer event. The stage runs last in the pipeline (after smoothing,
the mirror and audio lip sync), so a bound expression is not smoothed in and can block the lip sync;
its ``expression`` is the AVATAR's key as sent. Gesture names carry the person's own hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from vtuber.config import load_table
from vtuber.errors import ConfigError
from vtuber.gestures.model import GestureModel, load_builtin
from vtuber.gestures.poses import BODY_POSES
from vtuber.gestures.recognizer import SIDES, GestureRecognizer, RecognizerSettings
from vtuber.landmarks import Landmarks
from vtuber.rig import ARKIT_NAMES, AvatarFrame, FrameEvent

OVERRIDES = ("keep", "block", "blend")
BLINK_KEYS = frozenset({"blink", "blinkLeft", "blinkRight", "eyeBlinkLeft", "eyeBlinkRight"})
MOUTH_KEYS = frozenset(
    {"aa", "ih", "ou", "ee", "oh"} | {n for n in ARKIT_NAMES if n.startswith(("mouth", "jaw"))}
)
LOOK_KEYS = frozenset(
    {"lookUp", "lookDown", "lookLeft", "lookRight"}
    | {n for n in ARKIT_NAMES if n.startswith("eyeLook")}
)


@dataclass
class Binding:
    gesture: str
    hand: str = "any"
    expression: str | None = None
    weight: float = 1.0
    key: str | None = None
    keycode: int = 0
    event: str | None = None
    mode: str = "hold"
    min_hold: float = 0.0
    cooldown: float = 0.0
    blink: str = "keep"
    mouth: str = "keep"
    look: str = "keep"
    # state
    on: bool = False
    off_at: float = -1e9
    fired_for: float | None = None  # the held_since of the gesture that last toggled it

    def names(self) -> tuple[str, ...]:
        """The gesture names this binding listens to."""
        sides = SIDES if self.hand == "any" else (self.hand,)
        return (self.gesture,) + tuple(f"{self.gesture}_{s}" for s in sides)


@dataclass
class GestureSettings:
    recognizer: RecognizerSettings = field(default_factory=RecognizerSettings)
    model: str | None = None
    bindings: list[Binding] = field(default_factory=list)


def _num(table: Mapping[str, object], key: str, default: float, lo: float, hi: float) -> float:
    v = table.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= float(v) <= hi:
        raise ConfigError(f"[gestures] {key} must be a number in {lo}..{hi}, not {v!r}")
    return float(v)


def parse_binding(b: Mapping[str, object], i: int) -> Binding:
    where = f"[[gestures.binding]] #{i + 1}"
    known = set(Binding.__dataclass_fields__) - {"on", "off_at", "fired_for"}
    unknown = set(b) - known
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {sorted(unknown)}")
    gesture = b.get("gesture")
    if not isinstance(gesture, str) or not gesture:
        raise ConfigError(f"{where}: 'gesture' (a gesture name) is required")
    hand = b.get("hand", "any")
    if hand not in ("any",) + SIDES:
        raise ConfigError(f"{where}: hand must be left, right or any, not {hand!r}")
    mode = b.get("mode", "hold")
    if mode not in ("hold", "toggle"):
        raise ConfigError(f"{where}: mode must be hold or toggle, not {mode!r}")
    for k in ("blink", "mouth", "look"):
        if b.get(k, "keep") not in OVERRIDES:
            raise ConfigError(f"{where}: {k} must be one of {OVERRIDES}")
    key = b.get("key")
    if key is True:
        key = ""  # the gesture's own name, filled in when it fires
    elif key is not None and not isinstance(key, str):
        raise ConfigError(f"{where}: key must be a name or true")
    for k in ("expression", "event"):
        if b.get(k) is not None and not isinstance(b.get(k), str):
            raise ConfigError(f"{where}: {k} must be a name")
    if not any(b.get(k) is not None for k in ("expression", "key", "event")):
        raise ConfigError(f"{where}: give at least one of expression, key, event")
    return Binding(
        gesture=gesture,
        hand=str(hand),
        expression=b.get("expression"),  # type: ignore[arg-type]
        weight=_num(b, "weight", 1.0, 0.0, 1.0),
        key=key,  # type: ignore[arg-type]
        keycode=int(_num(b, "keycode", 0, 0, 2**31 - 1)),
        event=b.get("event"),  # type: ignore[arg-type]
        mode=str(mode),
        min_hold=_num(b, "min_hold", 0.0, 0.0, 10.0),
        cooldown=_num(b, "cooldown", 0.0, 0.0, 60.0),
        blink=str(b.get("blink", "keep")),
        mouth=str(b.get("mouth", "keep")),
        look=str(b.get("look", "keep")),
    )


def parse_settings(table: Mapping[str, object], base_dir: Path | None = None) -> GestureSettings:
    """GestureSettings from a ``[gestures]`` table (ConfigError on a bad value)."""
    known = {"model", "min_hold", "release", "cooldown", "threshold", "hands", "body", "binding"}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"[gestures]: unknown setting(s) {sorted(unknown)}")
    rs = RecognizerSettings(
        min_hold=_num(table, "min_hold", 0.1, 0.0, 10.0),
        release=_num(table, "release", 0.12, 0.0, 10.0),
        cooldown=_num(table, "cooldown", 0.3, 0.0, 60.0),
        on_threshold=_num(table, "threshold", 0.8, 0.0, 1.0),
        hands=bool(table.get("hands", True)),
        body=bool(table.get("body", True)),
    )
    rs.off_threshold = min(rs.off_threshold, rs.on_threshold)
    raw = table.get("binding", [])
    if not isinstance(raw, list) or not all(isinstance(b, Mapping) for b in raw):
        raise ConfigError("[[gestures.binding]] must be an array of tables")
    model = table.get("model")
    if model is not None:
        if not isinstance(model, str):
            raise ConfigError("[gestures] model must be a file name")
        if base_dir is not None and not Path(model).is_absolute():
            model = str(base_dir / model)
    return GestureSettings(rs, model, [parse_binding(b, i) for i, b in enumerate(raw)])


def load_settings(path: str | Path | None) -> GestureSettings:
    """The ``[gestures]`` table of a TOML config file (defaults without a file or table)."""
    if path is None:
        return GestureSettings()
    return parse_settings(load_table(path, "gestures"), Path(path).resolve().parent)


def known_gestures(model: GestureModel) -> set[str]:
    return {c for c in model.classes if c != "none"} | {
        p.rsplit("_", 1)[0] if p.endswith(("_left", "_right")) else p for p in BODY_POSES
    }


def _override(blend: dict[str, float], keys: frozenset[str], how: str, weight: float) -> None:
    if how == "keep":
        return
    k = 0.0 if how == "block" else max(0.0, 1.0 - weight)
    for name in blend.keys() & keys:
        blend[name] *= k


class GestureStage:
    """Recognition + bindings for the pipeline: ``apply(frame, landmarks)`` returns the frame
    with the bound expressions set and the frame's events (:class:`vtuber.rig.FrameEvent`)."""

    def __init__(self, settings: GestureSettings | None = None, model: GestureModel | None = None):
        self.settings = settings or GestureSettings()
        if model is None:
            model = (
                GestureModel.load(self.settings.model) if self.settings.model else load_builtin()
            )
        self.recognizer = GestureRecognizer(model, self.settings.recognizer)
        self.bindings = self.settings.bindings
        names = known_gestures(model)
        for b in self.bindings:
            if b.gesture not in names:
                raise ConfigError(
                    f"binding for unknown gesture {b.gesture!r}; known: {', '.join(sorted(names))}"
                )

    def events_for(self, t: float, edges: list) -> list[FrameEvent]:  # type: ignore[type-arg]
        out = [FrameEvent("gesture", e.name, e.active) for e in edges]
        if not self.bindings:
            for e in edges:
                out.append(FrameEvent("key", e.name, e.active))
                out.append(FrameEvent("viewer", e.name, e.active))
            return out
        active = self.recognizer.active()
        for b in self.bindings:
            held = [(since, n) for n, since in active.items() if n in b.names()]
            first = min(held) if held else None
            if b.mode == "hold":
                want = (
                    first is not None
                    and t - first[0] >= b.min_hold - 1e-9
                    and (b.on or t - b.off_at >= b.cooldown - 1e-9)
                )
                if want != b.on:
                    b.on = want
                    if not want:
                        b.off_at = t
                    out += self._actions(b, first[1] if first else b.gesture, want)
            else:  # toggle: each new gesture held long enough flips it
                if first is None or first[0] == b.fired_for:
                    continue
                if t - first[0] >= b.min_hold - 1e-9 and t - b.off_at >= b.cooldown - 1e-9:
                    b.fired_for = first[0]
                    b.on = not b.on
                    if not b.on:
                        b.off_at = t
                    out += self._actions(b, first[1], b.on)
        return out

    @staticmethod
    def _actions(b: Binding, gesture_name: str, on: bool) -> list[FrameEvent]:
        out = []
        if b.key is not None:
            out.append(FrameEvent("key", b.key or gesture_name, on, b.keycode))
        if b.event is not None:
            out.append(FrameEvent("viewer", b.event, on))
        return out

    def apply(self, frame: AvatarFrame, lm: Landmarks) -> AvatarFrame:
        edges = self.recognizer.update(lm)
        events = self.events_for(lm.t, edges)
        blend = frame.blendshapes
        changed = False
        for b in self.bindings:
            if b.on and b.expression:
                if not changed:
                    blend = dict(blend)
                    changed = True
                _override(blend, BLINK_KEYS, b.blink, b.weight)
                _override(blend, MOUTH_KEYS, b.mouth, b.weight)
                _override(blend, LOOK_KEYS, b.look, b.weight)
                blend[b.expression] = max(blend.get(b.expression, 0.0), b.weight)
        if not events and not changed:
            return frame
        return replace(frame, blendshapes=blend, events=frame.events + tuple(events))

    def status(self) -> str:
        """The active gestures for the status line ('' when none)."""
        names = sorted(self.recognizer.active())
        return ("gesture " + ",".join(names)) if names else ""
