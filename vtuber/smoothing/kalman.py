"""The smoothing stage: adaptive, gated Kalman filtering of every signal in an AvatarFrame.

Applied by the pipeline to the ANATOMICAL frame (before the mirror). Every scalar channel -- the
three rotation-vector components of each bone, the root position and rotation, each blendshape
weight -- runs the same constant-velocity Kalman filter as filterpy's ``KalmanFilter`` with
``F = [[1, dt], [0, 1]]``, ``H = [[1, 0]]``, ``Q = Q_discrete_white_noise(2, dt, accel**2)``,
``R = noise**2`` (see :func:`reference_filter`); the channels are stacked in numpy arrays so one
frame costs a fixed handful of array operations whatever the number of channels. On top of it:

- **Rotations** are filtered in the tangent space of the previous estimate (multiplicative
  error-state): the measurement is ``log(q_est^-1 * q_meas)`` taken the short way, so there is no
  jump at +-180 deg and ``q`` / ``-q`` are the same rotation; the estimate is folded back with
  ``q_est * exp(x)`` every frame, so the output is a unit quaternion.
- **Adaptivity**: when a group's normalized innovation squared (NIS, per degree of freedom)
  exceeds ``adapt_sigma**2`` the position variance is inflated so the innovation becomes
  consistent (covariance matching): the gain goes to ``1 - adapt_sigma**2 / NIS``. A quick head
  turn or a blink comes through; noise on a still head stays below the threshold and is smoothed.
- **Lag detection**: a steady slow move gives small innovations of one sign; their running mean,
  tested like the NIS, raises the process noise so the velocity estimate catches up.
- **Speed-scaled trust and stale speed**: a moving group (its velocity estimate over
  ``speed_ref``) trusts the measurement more; a slow velocity decays toward 0 in the prediction
  (``still_tau_s``, fading out above ``still_speed``), so a still signal does not keep the speed
  of a move that ended.
- **Gating**: a group whose NIS exceeds ``gate_sigma**2`` is not updated that frame (a one-frame
  landmark glitch); after ``max_gated`` consecutive gated frames the measurement is accepted (the
  user really moved).
- **Dropouts**: a signal missing from the frame is predicted for ``hold_s``, then eased to its rest
  value (:data:`vtuber.rig.REST_POSE` / identity for bones, 0 for blendshapes) over ``ease_s``;
  when it returns the filter restarts at the measurement and the output blends from what was
  shown to the filtered value over ``reacquire_s`` (no snap).
- **Blendshapes** are clamped to [0, 1]; within ``snap`` of 0 or 1 the output is exactly the bound
  (a closed eye is fully closed, an open one fully open).

Units: rotation settings are in degrees (noise) and degrees/s^2 (accel); root position in metres
and m/s^2; blendshape weights in weight units and weight/s^2. Times are seconds of ``frame.t``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vtuber.chi2 import gaussian_equivalent_threshold
from vtuber.quat import (
    conjugate_rows,
    conjugate_tuple,
    from_rotvec_rows,
    multiply_rows,
    multiply_tuple,
    slerp_rows,
    to_rotvec_rows,
)
from vtuber.rig import BLENDSHAPE_KEYS, IDENTITY, PARENT, REST_POSE, AvatarFrame, Bone, Quat
from vtuber.smoothing.filters import F, KalmanBank
from vtuber.smoothing.settings import (
    SignalSettings,
    SmoothingConfig,
    blendshape_signal,
    bone_signal,
    preset_signals,
)


def _ancestors(bone: Bone) -> tuple[Bone, ...]:
    """The bone's parents in the rig's hierarchy, from the root down."""
    out: list[Bone] = []
    p = PARENT[bone]
    while p is not None:
        out.append(p)
        p = PARENT[p]
    return tuple(reversed(out))


# The Neck's parents, from the root (Hips, Spine, Chest, UpperChest; each at rest, the identity,
# when absent from a frame).
_TORSO = _ancestors(Bone.Neck)


def _chain(bones: Mapping[Bone, Quat]) -> Quat:
    """The torso's rotations composed, Hips to UpperChest: the Neck's parent in the Hips' parent."""
    q = IDENTITY
    for k in _TORSO:
        r = bones.get(k)
        if r is not None:
            q = multiply_tuple(q, r)
    return q


def _smoothstep(u: F) -> F:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


# ------------------------------------------------------------------------------ the smoother
ROOT_ROTATION = "root_rotation"
ROOT_POSITION = "root_position"
_MAX_DT = 0.5  # a longer gap between frames (a seek, a stall) is treated as this long


class KalmanSmoother:
    """The pipeline's smoothing stage (``update(frame) -> frame``), one instance per stream.

    Signals are the frame's bones (rotation), root rotation and position, and blendshapes in
    :data:`vtuber.rig.BLENDSHAPE_KEYS`; other keys and ``positions`` pass through unchanged.
    Neck and Head share gating/adaptivity decisions (one head motion), as do the two eye bones.
    """

    def __init__(self, config: SmoothingConfig | None = None) -> None:
        self.config = config or SmoothingConfig()
        sig = self.config.signals or preset_signals("medium")
        self.rot_keys: list[Bone | str] = [*Bone, ROOT_ROTATION]
        self.bone_index = {b: i for i, b in enumerate(Bone)}
        self._bones = list(Bone)
        n_rot = len(self.rot_keys)
        self.blend_keys = list(BLENDSHAPE_KEYS)
        self.blend_index = {k: i for i, k in enumerate(self.blend_keys)}
        n_bs = len(self.blend_keys)
        # Units: rotations (3 channels), the root position (3), blendshapes (1).
        self.n_rot, self.n_bs = n_rot, n_bs
        n_units = n_rot + 1 + n_bs
        self.n_units = n_units
        unit_sig = [bone_signal(b) for b in Bone] + ["root", "root"]  # + root rot., position
        unit_sig += [blendshape_signal(k) for k in self.blend_keys]
        self.unit_sig = unit_sig
        # Channel layout: rot units' 3 components, then root position's 3, then blendshapes.
        self.c_rot = slice(0, 3 * n_rot)
        self.c_pos = slice(3 * n_rot, 3 * n_rot + 3)
        self.c_bs = slice(3 * n_rot + 3, 3 * n_rot + 3 + n_bs)
        n_ch = 3 * n_rot + 3 + n_bs
        unit_of_ch = np.concatenate(
            [np.repeat(np.arange(n_rot), 3), np.full(3, n_rot), n_rot + 1 + np.arange(n_bs)]
        )
        self.unit_of_ch = unit_of_ch
        # Groups: one per unit, except Neck+Head and the two eyes share one.
        group_of_unit = np.arange(n_units)
        group_of_unit[self.bone_index[Bone.Head]] = self.bone_index[Bone.Neck]
        group_of_unit[self.bone_index[Bone.RightEye]] = self.bone_index[Bone.LeftEye]
        _, group_of_unit = np.unique(group_of_unit, return_inverse=True)
        n_groups = int(group_of_unit.max()) + 1
        settings = [sig[s] for s in unit_sig]
        deg = math.radians(1.0)
        unit_scale = np.array([deg] * n_rot + [1.0] + [1.0] * n_bs)  # settings units -> state
        self.unit_settings, self.unit_scale = settings, unit_scale
        u_noise = np.array([s.noise for s in settings]) * unit_scale
        u_accel = np.array([s.accel for s in settings]) * unit_scale
        g_set: list[SignalSettings] = [settings[0]] * n_groups
        g_scale = np.ones(n_groups)
        for u in range(n_units):
            g_set[group_of_unit[u]] = settings[u]
            g_scale[group_of_unit[u]] = unit_scale[u]

        g_dof = np.bincount(group_of_unit[unit_of_ch], minlength=n_groups)

        def gsig(sigma: float, g: int) -> float:
            # The chi-square threshold (g's dof) with the false-alarm rate of |N(0,1)| > sigma.
            return gaussian_equivalent_threshold(sigma, int(g_dof[g]))

        self.bank = KalmanBank(
            r=(u_noise**2)[unit_of_ch],
            qa=(u_accel**2)[unit_of_ch],
            group=group_of_unit[unit_of_ch],
            adapt_tau=np.array([gsig(s.adapt_sigma, g) for g, s in enumerate(g_set)]),
            adapt_memory_s=np.array([s.adapt_memory_s for s in g_set]),
            gate=np.array([gsig(s.gate_sigma, g) for g, s in enumerate(g_set)]),
            max_gated=np.array([s.max_gated for s in g_set], np.intp),
            speed_ref=np.array(
                [
                    s.speed_ref * g_scale[g] if s.speed_ref > 0 else np.inf
                    for g, s in enumerate(g_set)
                ]
            ),
            lag_k=np.array([s.lag_k for s in g_set]),
            still_tau_s=np.array([s.still_tau_s if s.still_tau_s > 0 else np.inf for s in g_set]),
            still_speed=np.array(
                [max(s.still_speed, 1e-9) * g_scale[g] for g, s in enumerate(g_set)]
            ),
        )
        self.group_of_unit = group_of_unit
        self.hold_s = np.array([s.hold_s for s in settings])
        self.ease_s = np.maximum(np.array([s.ease_s for s in settings]), 1e-6)
        self.reacquire_s = np.array([s.reacquire_s for s in settings])
        self.snap = np.array([s.snap for s in settings[n_rot + 1 :]])
        # A restarted channel's velocity variance: (accel * 0.2 s)^2, a plausible speed.
        self.p_vel0 = ((u_accel * 0.2) ** 2)[unit_of_ch]
        # Rest values.
        self.rest_q = np.array(
            [REST_POSE.get(b, IDENTITY) for b in Bone] + [IDENTITY], dtype=np.float64
        )
        self.rest_x = np.zeros(n_ch - 3 * n_rot)  # root position, blendshapes
        self._n_ch = n_ch
        self.reset()

    # ------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything (a new stream): every signal unseen, the filters at rest."""
        n_units, n_ch = self.n_units, self._n_ch
        self.bank.clear()
        self.q_ref = self.rest_q.copy()  # rotation estimate (bank holds the deviation: 0)
        self.t: float | None = None
        self.seen = np.zeros(n_units, bool)  # measured and not yet eased back to rest
        self.missing = np.zeros(n_units, bool)
        self.t_last = np.zeros(n_units)  # time of the last measurement
        self.frozen = np.zeros(n_units, bool)  # easing: prediction stopped
        self.out_q = self.rest_q.copy()  # last output
        self.out_x = self.rest_x.copy()
        self.from_q = self.rest_q.copy()  # re-acquire blend start
        self.from_x = self.rest_x.copy()
        self.blend_t0 = np.zeros(n_units)
        self.blend_len = np.zeros(n_units)  # 0 = no blend running
        self._z = np.zeros(n_ch)
        self._meas_q = self.rest_q.copy()
        self._layouts: dict[tuple[Any, ...], Any] = {}
        self._blend_layouts: dict[tuple[Any, ...], Any] = {}
        self._out_key = b""
        self._out_layout: Any = None
        self._steady_key = b""  # the present mask of a steady frame (see update)
        self._steady: tuple[NDArray[np.intp], NDArray[np.bool_]] = (
            np.zeros(0, np.intp),
            np.zeros(0, bool),
        )

    def _layout(
        self, keys: tuple[Any, ...], index: Mapping[Any, int]
    ) -> tuple[NDArray[np.intp], NDArray[np.bool_] | None, list[Any]]:
        """For a frame's keys (bones or blendshape names, in the frame's order): their rows in
        ``index``, which of them are known (None: all) and the unknown ones. Cached: a source
        sends the same keys in the same order frame after frame."""
        lay = self._layouts.get(keys)
        if lay is None:
            j = [index.get(k, -1) for k in keys]
            known = np.array([x >= 0 for x in j], bool)
            lay = (
                np.array([x for x in j if x >= 0], np.intp),
                None if known.all() else known,
                [k for k, x in zip(keys, j, strict=True) if x < 0],
            )
            if len(self._layouts) > 256:  # keys that keep changing: do not grow without end
                self._layouts.clear()
            self._layouts[keys] = lay
        return lay

    def update(self, frame: AvatarFrame) -> AvatarFrame:
        """The smoothed copy of one anatomical frame (``frame`` itself is not modified).

        The Neck is filtered relative to the Hips' parent, not to its own parent: with a body,
        the head's Neck is the face's head (relative to the camera) made relative to the chest
        Pose gives, so filtering the Neck and the torso each on its own would let the torso's
        filtering move the head the face measured. Filtered as the chain Hips..Neck composed,
        then made local again under the filtered torso, the head as shown is the face's head
        filtered, whatever the torso's own filtering does (docs/smoothing.md)."""
        b = frame.bones
        if Bone.Neck in b and any(k in b for k in _TORSO):
            bones = dict(b)
            bones[Bone.Neck] = multiply_tuple(_chain(b), b[Bone.Neck])
            frame = replace(frame, bones=bones)
        out = self._filter(frame)
        ob = out.bones
        if Bone.Neck in ob and any(k in ob for k in _TORSO):
            ob[Bone.Neck] = multiply_tuple(conjugate_tuple(_chain(ob)), ob[Bone.Neck])
        return out

    def _filter(self, frame: AvatarFrame) -> AvatarFrame:
        t = float(frame.t)
        dt = 0.0 if self.t is None else min(max(t - self.t, 0.0), _MAX_DT)
        self.t = t
        n_rot = self.n_rot
        # ---- gather measurements
        present = np.zeros(self.n_units, bool)
        mq = self._meas_q
        b_in = frame.bones
        if b_in:
            rows_in = self._layout(tuple(b_in), self.bone_index)[0]
            mq[rows_in] = list(b_in.values())
            present[rows_in] = True
        tr = frame.tracking
        if tr.face or tr.body:
            mq[n_rot - 1] = frame.root_rotation
            present[n_rot - 1] = True
            present[n_rot] = True
            self._z[self.c_pos] = frame.root_position
        extra_bs: dict[str, float] = {}
        base = n_rot + 1
        bl_in = frame.blendshapes
        if bl_in:
            keys = tuple(bl_in)
            lay = self._blend_layouts.get(keys)
            if lay is None:  # z and present indices of these keys, once per key layout
                cols, known, extra = self._layout(keys, self.blend_index)
                lay = (self.c_bs.start + cols, base + cols, known, extra)
                if len(self._blend_layouts) > 256:
                    self._blend_layouts.clear()
                self._blend_layouts[keys] = lay
            z_idx, p_idx, known, extra = lay
            w = np.fromiter(bl_in.values(), np.float64, len(bl_in))
            self._z[z_idx] = w if known is None else w[known]
            present[p_idx] = True
            if extra:
                extra_bs = {k: bl_in[k] for k in extra}
        # Normalize measured quaternions (absent rows hold stale values; masked below).
        mq /= np.sqrt(np.einsum("ij,ij->i", mq, mq))[:, None]
        # ---- dropouts and returns
        bank = self.bank
        uc = self.unit_of_ch
        z = self._z
        key = present.tobytes()
        fast = key == self._steady_key
        if fast:
            # The same signals as the last frame, which had none lost, returning, easing or
            # blending in: nothing to decide here (the common frame), only filter.
            rows, measured_ch = self._steady
            any_absent = False
            bank.predict(dt)
            q_rows = self.q_ref[rows]
            zr = z[self.c_rot].reshape(-1, 3)  # a view of z
            zr[rows] = to_rotvec_rows(multiply_rows(conjugate_rows(q_rows), mq[rows]))
            bank.update(z, measured_ch, dt)
            self.t_last = np.where(present, t, self.t_last)
        else:
            returning = present & (self.missing | ~self.seen)
            absent = self.seen & ~present
            self.missing = absent
            lost_for = t - self.t_last
            any_absent = bool(absent.any())
            if any_absent:
                start_ease = absent & ~self.frozen & (lost_for > self.hold_s)
                if start_ease.any():
                    self.frozen |= start_ease
                    bank.v = np.where(start_ease[uc], 0.0, bank.v)
                # Velocity of a predicted (absent) signal decays over its hold time.
                if dt > 0:
                    damp = np.exp(-dt / np.maximum(self.hold_s, 1e-3))[uc]
                    bank.v = np.where(absent[uc], bank.v * damp, bank.v)
            # ---- filter
            if self.frozen.any():
                frozen_ch = self.frozen[uc]
                v_saved = bank.v
                bank.v = np.where(frozen_ch, 0.0, bank.v)
                bank.predict(dt)
                bank.v = v_saved
            else:
                bank.predict(dt)
            # Rotation measurements as deviations from the estimate (tangent space at q_ref).
            # Only the rotations that are measured or still shown move (the rest hold at rest with
            # a zero deviation): the quaternion maths runs on those rows alone.
            rows = np.flatnonzero(self.seen[:n_rot] | present[:n_rot])
            q_rows = self.q_ref[rows]
            zr = z[self.c_rot].reshape(-1, 3)  # a view of z
            zr[rows] = to_rotvec_rows(multiply_rows(conjugate_rows(q_rows), mq[rows]))
            if returning.any():
                ret_ch = returning[uc]
                # Restart returning signals at their measurement (rotations: at q_ref = measured).
                self.q_ref = np.where(returning[:n_rot, None], mq, self.q_ref)
                z[self.c_rot] = np.where(ret_ch[self.c_rot], 0.0, z[self.c_rot])
                bank.reset(ret_ch, z, self.p_vel0)
                self.from_q = np.where(returning[:n_rot, None], self.out_q, self.from_q)
                self.from_x = np.where(ret_ch[n_rot * 3 :], self.out_x, self.from_x)
                lost = np.where(self.seen, np.minimum(lost_for, 2.0 * self.reacquire_s), 1e9)
                self.blend_len = np.where(
                    returning, np.minimum(self.reacquire_s, np.maximum(lost, 1e-6)), self.blend_len
                )
                self.blend_t0 = np.where(returning, t, self.blend_t0)
                self.frozen &= ~returning
            measured_ch = (present & ~returning)[uc]
            bank.update(z, measured_ch, dt)
            self.t_last = np.where(present, t, self.t_last)
            self.seen |= present
        # Fold the rotation deviations into the estimate.
        xr = bank.x[self.c_rot].reshape(-1, 3)
        q_ref = self.q_ref.copy()
        q_ref[rows] = multiply_rows(q_ref[rows], from_rotvec_rows(xr[rows]))
        self.q_ref = q_ref
        bank.x[self.c_rot] = 0.0
        # ---- outputs: filter, re-acquire blend, ease to rest
        out_q = self.q_ref
        out_x = bank.x[n_rot * 3 :].copy()
        if not fast:
            blending = self.blend_len > 0
            if blending.any():
                w = _smoothstep((t - self.blend_t0) / np.maximum(self.blend_len, 1e-9))
                w = np.where(blending, w, 1.0)
                self.blend_len = np.where(w >= 1.0, 0.0, self.blend_len)
                out_q = slerp_rows(self.from_q, out_q, w[:n_rot])
                wx = w[uc[n_rot * 3 :]]
                out_x = self.from_x + (out_x - self.from_x) * wx
            easing = absent & self.frozen
            if any_absent and easing.any():
                u = _smoothstep((lost_for - self.hold_s) / self.ease_s)
                u = np.where(easing, u, 0.0)
                out_q = slerp_rows(out_q, self.rest_q, u[:n_rot])
                ux = u[uc[n_rot * 3 :]]
                out_x = out_x + (self.rest_x - out_x) * ux
                done = easing & (u >= 1.0)
                if done.any():  # fully at rest: forget the signal until it returns
                    self.seen &= ~done
                    self.frozen &= ~done
                    self.missing &= ~done
                    self.q_ref = np.where(done[:n_rot, None], self.rest_q, self.q_ref)
                    done_x = done[uc[n_rot * 3 :]]
                    bank.x[n_rot * 3 :] = np.where(done_x, self.rest_x, bank.x[n_rot * 3 :])
            # The next frame may take the fast path if it measures the same signals and this
            # one left nothing lost, easing or blending in.
            steady = not any_absent and not self.frozen.any() and not (self.blend_len > 0).any()
            self._steady_key = key if steady else b""
            if steady:
                self._steady = (np.flatnonzero(present[:n_rot]), present[uc])
        # Blendshapes: clamp, snap to a bound within ``snap`` of it.
        bs = np.minimum(np.maximum(out_x[3:], 0.0), 1.0)  # (np.clip costs 5x more here)
        snap = self.snap
        bs[bs <= snap] = 0.0
        bs[bs >= 1.0 - snap] = 1.0
        out_x[3:] = bs
        self.out_q = out_q
        self.out_x = out_x
        # ---- the frame
        active = self.seen
        key = active.tobytes()
        if key != self._out_key:  # which bones / blendshapes are shown changed
            b_idx = np.flatnonzero(active[: n_rot - 1])
            k_idx = np.flatnonzero(active[base:])
            self._out_key = key
            self._out_layout = (
                b_idx,
                [self._bones[i] for i in b_idx.tolist()],
                k_idx,
                [self.blend_keys[j] for j in k_idx.tolist()],
            )
        b_idx, b_names, k_idx, k_names = self._out_layout
        bones = dict(zip(b_names, map(tuple, out_q[b_idx].tolist()), strict=True))
        blend = dict(zip(k_names, bs[k_idx].tolist(), strict=True))
        blend.update(extra_bs)
        root_rot = frame.root_rotation
        root_pos = frame.root_position
        if active[n_rot - 1]:
            q = out_q[n_rot - 1].tolist()
            root_rot = (q[0], q[1], q[2], q[3])
        if active[n_rot]:
            p = out_x[:3].tolist()
            root_pos = (p[0], p[1], p[2])
        return replace(
            frame, bones=bones, blendshapes=blend, root_rotation=root_rot, root_position=root_pos
        )
