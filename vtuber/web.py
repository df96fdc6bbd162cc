"""What the viewer's HTTP side serves, and who may connect (pure functions, no sockets).

The WebSocket sink (:mod:`vtuber.sinks.websocket`) answers plain HTTP GETs on the same port:

==============================  ============================================================
``/`` and ``/index.html``       the viewer page (``vtuber/viewer/``)
``/main.js``, ``/style.css``    the page's own files (``vtuber/viewer/``)
``/node_modules/<pkg>/...``     three, @pixiv/three-vrm, @pixiv/three-vrm-animation and their
                                @pixiv/* dependencies (the packaged copy, or an ``npm install``)
``/avatar.vrm``                 the avatar (``--avatar`` or vtuber's default avatar)
``/ws``                         the WebSocket stream (docs/websocket.md)
==============================  ============================================================

Where node_modules is found (first that holds ``three/package.json``): ``$VTUBER_NODE_MODULES``;
the packaged copy ``vtuber/assets/node_modules`` (an installed wheel: vendored at build time by
``scripts/vendor_viewer.py``, only the modules the page loads, with their licences);
``node_modules`` in a folder above this file (a repository checkout, editable install); then
``./node_modules`` in the working directory. The default avatar: ``$VTUBER_DEFAULT_AVATAR``, the
packaged ``vtuber/assets/default.vrm``, then ``avatars/default.vrm`` found like node_modules.

Security (docs/viewer.md): the page, the modules and the stream are refused to requests whose
``Host`` is a DNS name other than ``localhost`` or the configured host (DNS rebinding), and
WebSocket upgrades are refused when the browser's ``Origin`` is not the page's own origin.
Requests without an ``Origin`` (non-browser clients) are allowed.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from vtuber.errors import ConfigError

VIEWER_DIR = Path(__file__).resolve().parent / "viewer"
# Filled only in wheels (setup.py's build hooks); absent in a checkout.
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
WS_PATH = "/ws"
AVATAR_PATH = "/avatar.vrm"

# npm packages the page may load (an import map in index.html points into these).
SERVED_PACKAGES = ("three", "@pixiv")

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".vrm": "model/gltf-binary",
    ".glb": "model/gltf-binary",
    ".vrma": "model/gltf-binary",
    ".png": "image/png",
}


def _search_dirs() -> Iterator[Path]:
    """This file's folder and every folder above it, then the working directory (asked last)."""
    here = Path(__file__).resolve()
    yield here.parent
    yield from here.parents
    yield Path.cwd()


def _search_up(rel: str, marker: str, missing: str) -> Path:
    """``rel`` (which must hold ``marker``, or be a file when ``marker`` is empty) in the first
    of :func:`_search_dirs` that has it; ConfigError(``missing``) when none has."""
    for d in _search_dirs():
        cand = d / rel
        if (cand / marker).is_file() if marker else cand.is_file():
            return cand.resolve()
    raise ConfigError(missing)


def find_node_modules() -> Path:
    """The node_modules folder holding three and @pixiv/three-vrm (see module doc)."""
    env = os.environ.get("VTUBER_NODE_MODULES")
    if env:
        p = Path(env)
        if not (p / "three" / "package.json").is_file():
            raise ConfigError(f"VTUBER_NODE_MODULES={env} holds no three/ package")
        return p.resolve()
    packaged = ASSETS_DIR / "node_modules"
    if (packaged / "three" / "package.json").is_file():
        return packaged
    return _search_up(
        "node_modules",
        "three/package.json",
        missing="the viewer needs the npm packages three and @pixiv/three-vrm: run `npm install` "
        "in the vtuber checkout (scripts/setup.sh does) or set VTUBER_NODE_MODULES (a wheel "
        "carries them: install one built with `python -m build`)",
    )


def find_default_avatar() -> Path:
    """vtuber's own avatar, ``avatars/default.vrm`` (see module doc)."""
    env = os.environ.get("VTUBER_DEFAULT_AVATAR")
    if env:
        return Path(env)
    packaged = ASSETS_DIR / "default.vrm"
    if packaged.is_file():
        return packaged
    return _search_up(
        "avatars/default.vrm",
        "",
        missing="vtuber's default avatar (avatars/default.vrm) was not found: pass --avatar "
        "FILE.vrm or run `python avatars/make_default_avatar.py` in the checkout",
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback_host(host: str) -> bool:
    """Whether binding to ``host`` keeps the viewer on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_host(hostport: str) -> tuple[str, int | None]:
    """``'127.0.0.1:8080'`` / ``'[::1]:80'`` / ``'name'`` -> (host, port or None), lower case."""
    hp = hostport.strip().lower()
    if hp.startswith("["):
        host, _, rest = hp[1:].partition("]")
        port_s = rest[1:] if rest.startswith(":") else ""
    else:
        host, sep, port_s = hp.rpartition(":")
        if not sep:
            host, port_s = hp, ""
    try:
        port = int(port_s) if port_s else None
    except ValueError:
        port = None
    return host, port


@dataclass(frozen=True)
class AccessPolicy:
    """Which Host headers and browser Origins the viewer answers.

    Args:
        bind_host: the address the server listens on.
        port: the port it listens on.
    """

    bind_host: str
    port: int

    @property
    def open_to_network(self) -> bool:
        return not is_loopback_host(self.bind_host)

    def host_allowed(self, host: str) -> bool:
        """A DNS name is only trusted when it is ``localhost`` or the configured host; IP literals
        are fine (a DNS-rebinding page always reaches us under its own DNS name)."""
        name, _ = split_host(host)
        if name in ("localhost", self.bind_host.lower()):
            return True
        if not _is_ip(name):
            return False
        return self.open_to_network or ipaddress.ip_address(name).is_loopback

    def origin_allowed(self, origin: str | None) -> bool:
        """``None`` (no Origin header: not a browser) is allowed; a browser must come from the
        page itself: ``http://<allowed host>:<port>``."""
        if origin is None:
            return True
        try:
            u = urlsplit(origin)
            port = u.port
        except ValueError:
            return False
        if u.scheme != "http" or u.hostname is None or port != self.port:
            return False
        return self.host_allowed(u.netloc)


def resolve_path(url_path: str, node_modules: Path | None, avatar: Path) -> Path | None:
    """The file a GET of ``url_path`` serves, or None (404). Never leaves the served folders."""
    path = unquote(urlsplit(url_path).path)
    if path in ("/", "/index.html"):
        return VIEWER_DIR / "index.html"
    if path == AVATAR_PATH:
        return avatar
    if path.startswith("/node_modules/") and node_modules is not None:
        for pkg in SERVED_PACKAGES:
            prefix = f"/node_modules/{pkg}/"
            if path.startswith(prefix):  # resolved inside that package's own folder
                return _inside(node_modules / pkg, path[len(prefix) :])
        return None
    return _inside(VIEWER_DIR, path.lstrip("/"))


def _inside(root: Path, rel: str) -> Path | None:
    if "\x00" in rel:
        return None
    p = (root / rel).resolve()
    base = root.resolve()
    if p != base and base not in p.parents:
        return None
    return p if p.is_file() else None


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
