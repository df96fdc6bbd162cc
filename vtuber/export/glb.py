"""The one glTF 2.0 binary (GLB) writer: the VRMA export (:mod:`vtuber.export.vrma`) and the
default avatar (avatars/make_default_avatar.py) both build their glTF JSON around a
:class:`GlbBuffer` and pack it with :meth:`GlbBuffer.glb`.

Layout (glTF 2.0 spec, "GLB File Format Specification"): a 12-byte header (magic ``glTF``,
version 2, total length), a JSON chunk padded with spaces and a BIN chunk padded with zeros, each
to a multiple of 4 bytes. Every buffer view starts on a 4-byte boundary; little-endian data.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

FLOAT = 5126
UNSIGNED_INT = 5125
UNSIGNED_SHORT = 5123
UNSIGNED_BYTE = 5121
_DTYPE = {FLOAT: "<f4", UNSIGNED_INT: "<u4", UNSIGNED_SHORT: "<u2", UNSIGNED_BYTE: "u1"}


class GlbBuffer:
    """The binary buffer of one GLB with its ``bufferViews`` and ``accessors`` lists (place them
    in the glTF dict where you want them; :meth:`glb` adds ``buffers``)."""

    def __init__(self) -> None:
        self.bin = bytearray()
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def view(self, data: bytes, target: int | None = None) -> int:
        """Append ``data`` as a buffer view (4-byte aligned); its index."""
        while len(self.bin) % 4:
            self.bin.append(0)
        v: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.bin), "byteLength": len(data)}
        if target is not None:
            v["target"] = target
        self.bin += data
        self.views.append(v)
        return len(self.views) - 1

    def accessor(
        self,
        arr: np.ndarray,
        type_: str,
        component: int = FLOAT,
        target: int | None = None,
        minmax: bool = False,
        normalized: bool = False,
    ) -> int:
        """An accessor over ``arr`` (one row per element) stored in a new view; its index.
        ``minmax`` adds the per-component min and max (required for positions and for
        animation inputs)."""
        a = np.ascontiguousarray(arr, dtype=_DTYPE[component])
        acc: dict[str, Any] = {
            "bufferView": self.view(a.tobytes(), target),
            "componentType": component,
            "count": int(a.shape[0]),
            "type": type_,
        }
        if normalized:
            acc["normalized"] = True
        if minmax:
            rows = a.reshape(a.shape[0], -1)
            acc["min"] = [float(v) for v in rows.min(axis=0)]
            acc["max"] = [float(v) for v in rows.max(axis=0)]
        self.accessors.append(acc)
        return len(self.accessors) - 1

    def sparse_vec3(self, d: np.ndarray) -> int:
        """A VEC3 float accessor that is zero except where ``d`` is not (morph targets)."""
        d = d.astype("<f4")
        nz = np.nonzero(np.any(np.abs(d) > 1e-7, axis=1))[0]
        acc: dict[str, Any] = {
            "componentType": FLOAT,
            "count": int(d.shape[0]),
            "type": "VEC3",
            "min": [float(v) for v in d.min(axis=0)],
            "max": [float(v) for v in d.max(axis=0)],
        }
        if len(nz):
            acc["sparse"] = {
                "count": int(len(nz)),
                "indices": {
                    "bufferView": self.view(nz.astype("<u4").tobytes()),
                    "componentType": UNSIGNED_INT,
                },
                "values": {"bufferView": self.view(np.ascontiguousarray(d[nz]).tobytes())},
            }
        self.accessors.append(acc)
        return len(self.accessors) - 1

    def glb(self, gltf: dict[str, Any]) -> bytes:
        """The GLB bytes of ``gltf`` (its ``buffers`` set to this buffer) and this buffer."""
        while len(self.bin) % 4:
            self.bin.append(0)
        gltf["buffers"] = [{"byteLength": len(self.bin)}]
        js = json.dumps(gltf, separators=(",", ":")).encode("utf-8")
        js += b" " * (-len(js) % 4)
        total = 12 + 8 + len(js) + 8 + len(self.bin)
        return (
            struct.pack("<4sII", b"glTF", 2, total)
            + struct.pack("<I4s", len(js), b"JSON")
            + js
            + struct.pack("<I4s", len(self.bin), b"BIN\x00")
            + bytes(self.bin)
        )
