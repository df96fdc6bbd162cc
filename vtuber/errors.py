"""The package's one exception hierarchy.

Library code raises these (chained with ``raise ... from``); only the CLI turns them into a single
error line and an exit status.
"""

from __future__ import annotations


class VtuberError(Exception):
    """Base class of every error vtuber raises on purpose."""


class SourceError(VtuberError):
    """A frame source cannot be opened or read (camera, video file, image folder, recording)."""


class ConfigError(VtuberError):
    """Invalid settings: a bad flag value, a malformed config or profile file."""


class ModelError(VtuberError):
    """A model file is missing or does not match its checksum."""


class FormatError(VtuberError):
    """A file or datagram does not follow its documented format."""


class OutputError(VtuberError):
    """An output file cannot be written (full disk, permissions) or moved into place."""
