"""Runs a MediaPipe solution's graph (FaceMesh, Pose, Hands, Holistic) with less Python per frame.

``mediapipe.solutions``' ``SolutionBase.process`` does, on every call, more than send the image
and wait: it builds a new ``namedtuple`` *class* for the result (~0.2 ms), parses every output
packet into Python protobuf messages (and Pose then clears the ``presence`` field of each
landmark, one by one), after which :mod:`vtuber.landmarks.proto` serializes the landmark lists
again to read them with numpy. :class:`GraphRunner` feeds the image to the very graph the
solution object built (mediapipe's own class, same options: the same models and calculators) and
reads the landmark lists straight from the output packets' serialized bytes. On the face model
that is ~0.4 ms less CPU per frame on the model's thread (docs/performance.md); the landmarks
are the same floats (tests/test_speed_mechanisms.py compares both paths frame by frame).

It uses ``SolutionBase``'s attributes of mediapipe 0.10.21 (the pinned version): ``_graph``,
``_graph_outputs``, ``_simulated_timestamp``, ``_input_stream_type_info`` and ``_make_packet``.
If a mediapipe lacks them, the runner falls back to ``process()`` (``lean`` is False) and the
results are read from its messages instead: the same values, only slower.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from vtuber.landmarks.mp_import import mp  # noqa: F401  (imports mediapipe the lean way first)
from vtuber.landmarks.proto import landmark_array, landmarks_from_bytes

_STEP_US = 33333  # what SolutionBase.process advances its timestamp by per image (30 fps)


def _packet_getter() -> Any:
    """mediapipe's native packet readers (``_get_serialized_proto[_list]``), or None."""
    try:
        from mediapipe.python._framework_bindings import _packet_getter as pg
    except ImportError:  # pragma: no cover - another mediapipe build
        return None
    ok = hasattr(pg, "_get_serialized_proto") and hasattr(pg, "_get_serialized_proto_list")
    return pg if ok else None


_PG = _packet_getter()


def serialized_list(packet: Any) -> list[bytes] | None:
    """The serialized messages of a non-empty proto-list packet (e.g. a task graph's landmark
    lists, for :func:`vtuber.landmarks.proto.landmarks_from_bytes`); None if this mediapipe
    build has no native reader for them."""
    return None if _PG is None else list(_PG._get_serialized_proto_list(packet))


class GraphOutputs:
    """One image's outputs of a solution graph, read on demand.

    ``packets``: output stream name -> mediapipe packet (the lean path); ``result``: the
    solution's ``process()`` result (the fallback). Exactly one of them is set.
    """

    __slots__ = ("packets", "result")

    def __init__(self, packets: dict[str, Any] | None = None, result: Any = None) -> None:
        self.packets = packets
        self.result = result

    def _present(self, name: str) -> Any:
        if self.packets is not None:
            p = self.packets.get(name)
            return None if p is None or p.is_empty() else p
        return getattr(self.result, name, None)

    def has(self, name: str) -> bool:
        """Whether the stream produced something for this image."""
        return self._present(name) is not None

    def landmarks(self, name: str, fields: int = 3) -> NDArray[np.float32] | None:
        """A single landmark list output (e.g. ``pose_landmarks``) as an ``(n, fields)`` array;
        None when the stream produced nothing (no person)."""
        p = self._present(name)
        if p is None:
            return None
        if self.packets is None:
            return landmark_array(p, fields)
        data = _PG._get_serialized_proto(p)
        pts = landmarks_from_bytes(data, fields)
        return pts if pts is not None else landmark_array(self._parse(name, data), fields)

    def landmark_lists(self, name: str, fields: int = 3) -> list[NDArray[np.float32]]:
        """A list-of-landmark-lists output (e.g. ``multi_face_landmarks``), one array per
        person, MediaPipe's order; [] when nothing was found."""
        p = self._present(name)
        if p is None:
            return []
        if self.packets is None:
            return [landmark_array(m, fields) for m in p]
        out = []
        for data in _PG._get_serialized_proto_list(p):
            pts = landmarks_from_bytes(data, fields)
            out.append(pts if pts is not None else landmark_array(self._parse(name, data), fields))
        return out

    def messages(self, name: str) -> list[Any]:
        """A list output parsed into protobuf messages (e.g. ``multi_handedness``); []."""
        p = self._present(name)
        if p is None:
            return []
        if self.packets is None:
            return list(p)
        from mediapipe.python import packet_getter

        return list(packet_getter.get_proto_list(p))

    def _parse(self, name: str, data: bytes) -> Any:
        """A landmark list's bytes parsed into a message (the irregular-record fallback)."""
        from mediapipe.framework.formats import landmark_pb2

        msg = landmark_pb2.NormalizedLandmarkList()
        msg.ParseFromString(data)
        return msg


class GraphRunner:
    """Sends RGB images to a ``mediapipe.solutions`` object's graph (see the module doc).

    Args:
        solution: a FaceMesh, Pose, Hands or Holistic object (or any ``SolutionBase`` with one
            image input). It stays its owner's: close it as usual.
        lean: False forces the ``process()`` path (for comparisons).
    """

    def __init__(self, solution: Any, lean: bool = True) -> None:
        self.solution = solution
        info = getattr(solution, "_input_stream_type_info", None)
        needed = ("_graph", "_graph_outputs", "_simulated_timestamp", "_make_packet")
        self.lean = bool(
            lean
            and _PG is not None
            and isinstance(info, dict)
            and len(info) == 1
            and isinstance(getattr(solution, "_graph_outputs", None), dict)
            and all(hasattr(solution, a) for a in needed)
        )
        if self.lean:
            assert isinstance(info, dict)
            self._stream, self._type = next(iter(info.items()))

    def run(self, rgb: np.ndarray) -> GraphOutputs:
        """The graph's outputs for one RGB image (``ValueError`` if it is not 3-channel, like
        ``process``; ``RuntimeError`` if the graph fails)."""
        sol = self.solution
        if not self.lean:
            return GraphOutputs(result=sol.process(rgb))
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError("Input image must contain three channel rgb data.")
        if sol._graph is None:
            raise ValueError("the MediaPipe graph is closed")
        outputs = sol._graph_outputs  # filled by the graph's output callbacks
        outputs.clear()
        sol._simulated_timestamp += _STEP_US
        packet = sol._make_packet(self._type, rgb).at(sol._simulated_timestamp)
        sol._graph.add_packet_to_input_stream(stream=self._stream, packet=packet)
        sol._graph.wait_until_idle()
        return GraphOutputs(packets=dict(outputs))
