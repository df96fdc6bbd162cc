"""Fast conversion of MediaPipe landmark lists (protobuf messages) to numpy arrays.

Reading 478 landmarks attribute by attribute costs ~0.2 ms per frame in Python, as much as all of
vtuber's face solvers. A ``(Normalized)LandmarkList`` serializes (protobuf wire format) as one
length-delimited record per landmark, and each float field as a one-byte tag followed by a
little-endian float32: x = 0x0d, y = 0x15, z = 0x1d, visibility = 0x25, presence = 0x2d. When
every landmark carries the same fields (MediaPipe's graphs always fill them), the records have one
fixed size and numpy reads them in one go (~0.02 ms; one structured view of the records: 33 ->
18 us a face, docs/performance.md). Anything else falls back to attribute
access, so the result never depends on the shortcut.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

_FIELDS = ("x", "y", "z", "visibility", "presence")
_TAGS = (0x0D, 0x15, 0x1D, 0x25, 0x2D)


def landmark_array(landmark_list: Any, fields: int = 3) -> NDArray[np.float32]:
    """``(n, fields)`` float32 array of x, y, z (+ visibility, presence) of a landmark list.

    Args:
        landmark_list: a mediapipe ``NormalizedLandmarkList`` or ``LandmarkList`` message.
        fields: how many of x, y, z, visibility, presence to return (3 to 5).
    """
    if len(landmark_list.landmark) == 0:
        return np.zeros((0, fields), np.float32)
    pts = landmarks_from_bytes(landmark_list.SerializeToString(), fields)
    if pts is not None:
        return pts
    names = _FIELDS[:fields]
    return np.array(
        [tuple(getattr(p, a) for a in names) for p in landmark_list.landmark], dtype=np.float32
    )


def landmarks_from_bytes(data: bytes, fields: int = 3) -> NDArray[np.float32] | None:
    """The ``(n, fields)`` array of a SERIALIZED landmark list (e.g. the bytes a MediaPipe output
    packet holds, :mod:`vtuber.landmarks.graph`), or None when its records are not the regular
    fixed-size ones this reads (then parse the message and use :func:`landmark_array`)."""
    if not data:
        return np.zeros((0, fields), np.float32)
    if len(data) < 2 or data[0] != 0x0A:
        return None
    size = 2 + data[1]  # bytes per record: its tag, its length, its fields
    k = (size - 2) // 5
    if not (fields <= k <= 5 and k * 5 == size - 2 and len(data) % size == 0):
        return None
    # One structured view of the records: the record's tag and length as one uint16, each
    # field's tag byte and its float32 at their (unaligned) offsets.
    rec = np.frombuffer(data, dtype=_record_dtype(k))
    if not (rec["head"] == 0x0A | (5 * k) << 8).all():
        return None
    for j in range(k):
        if not (rec[f"tag{j}"] == _TAGS[j]).all():
            return None
    out = np.empty((len(rec), fields), np.float32)
    for j in range(fields):
        out[:, j] = rec[_FIELDS[j]]
    return out


_RECORD_DTYPES: dict[int, np.dtype[Any]] = {}


def _record_dtype(k: int) -> np.dtype[Any]:
    """The numpy dtype of one landmark record with ``k`` float fields (see the module doc)."""
    dt = _RECORD_DTYPES.get(k)
    if dt is None:
        names = ["head", *(f"tag{j}" for j in range(k)), *_FIELDS[:k]]
        formats = ["<u2", *["u1"] * k, *["<f4"] * k]
        offsets = [0, *(2 + 5 * j for j in range(k)), *(3 + 5 * j for j in range(k))]
        dt = np.dtype(
            {"names": names, "formats": formats, "offsets": offsets, "itemsize": 2 + 5 * k}
        )
        _RECORD_DTYPES[k] = dt
    return dt
