"""The protocol every sink follows."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, runtime_checkable

from vtuber.rig import AvatarFrame


@runtime_checkable
class Sink(Protocol):
    """Consumes avatar frames. ``send`` must not block the tracker for long."""

    def open(self) -> None: ...

    def send(self, frame: AvatarFrame) -> None: ...

    def close(self) -> None: ...


class SinkBase:
    """Convenience base: context-manager support on top of open/close."""

    def open(self) -> None:
        pass

    def send(self, frame: AvatarFrame) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> SinkBase:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
