"""Sinks consume AvatarFrames: VMC over UDP, the WebSocket viewer, the recorder.

Every sink follows :class:`vtuber.sinks.base.Sink` (open / send(frame) / close, and is a context
manager). Encoding is a pure function next to each sink, tested without sockets.
"""
