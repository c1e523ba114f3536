#!/usr/bin/env bash
# Create or repair the project's virtual environment (.venv) with the whole OpenMMLab stack.
#
# Idempotent: on a machine already set up it checks the environment and exits in seconds.
# A half-finished earlier run (killed build, partial venv) is detected and repaired.
#
# mmcv's compiled ops are built from the PyPI source once (OpenMMLab's wheel server is not
# reachable here) into a wheel cache outside the repository, keyed by torch version and
# Python tag, and reused by every later setup on this machine.
#
# Environment:
#   PYTHON            interpreter for the venv (default: python3.11, else python3)
#   VENV              venv folder (default: .venv in the repository root)
#   GESSL_WHEEL_CACHE wheel cache root (default: ${XDG_CACHE_HOME:-~/.cache}/gessl-mm/wheels)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
VENV=${VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
CACHE_ROOT=${GESSL_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gessl-mm/wheels}
STAMP=$VENV/.gessl-setup-stamp
START=$(date +%s)

log() { printf '[setup %4ds] %s\n' "$(( $(date +%s) - START ))" "$*"; }

# Everything that defines the environment; a change re-runs the install steps.
fingerprint() {
  cat requirements/*.txt setup.py gessl_mm/version.py tools/misc/setup_env.sh \
    tools/misc/patch_torchvision.py | sha256sum | cut -d' ' -f1
}

# The stack imports, mmcv's compiled ops load and the project is installed (editable) from
# this checkout. The project's own modules are not imported: a bug in them is for the tests
# to report, not a reason to reinstall the environment. -I: the checkout is not on sys.path.
check_env() {
  "$VENV/bin/python" -I - "$ROOT" <<'EOF'
import importlib.util, os, sys
import torch, mmcv, mmengine, mmpretrain, mmdet  # noqa: F401
from mmcv.ops import nms  # noqa: F401  (compiled ops load)
spec = importlib.util.find_spec('gessl_mm')
expected = os.path.join(sys.argv[1], 'gessl_mm', '__init__.py')
assert spec is not None and spec.origin == expected, f'gessl_mm not installed from {expected}'
EOF
}

healthy() {
  [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(fingerprint)" ] \
    && check_env >/dev/null 2>&1
}

if healthy; then
  log "environment in $VENV is complete (delete it or run 'make clean-all' to rebuild)"
  exit 0
fi

# A venv whose interpreter does not run is not worth repairing.
if [ -d "$VENV" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  log "removing broken virtual environment $VENV"
  rm -rf "$VENV"
fi
if [ ! -d "$VENV" ]; then
  log "creating virtual environment $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi
rm -f "$STAMP"
PY=$VENV/bin/python
PIP=("$PY" -m pip install --disable-pip-version-check --progress-bar off -q)

log "installing build tools and torch (torch comes from a local wheel where one exists)"
"${PIP[@]}" --upgrade pip
"${PIP[@]}" -r requirements/build.txt
"${PIP[@]}" -r requirements/runtime.txt -r requirements/torch.txt
"$PY" tools/misc/patch_torchvision.py

TORCH_VERSION=$("$PY" -c 'import torch; print(torch.__version__)')
PY_TAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info.major}{sys.version_info.minor}")')
MMCV_VERSION=$(sed -n 's/^mmcv==//p' requirements/mminstall.txt)
CACHE=$CACHE_ROOT/torch-$TORCH_VERSION-$PY_TAG
mkdir -p "$CACHE"

mmcv_wheel() { ls "$CACHE"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1; }
WHEEL=$(mmcv_wheel || true)
if [ -n "$WHEEL" ] && ! "$PY" -m zipfile -t "$WHEEL" >/dev/null 2>&1; then
  log "cached wheel $WHEEL is corrupt: removing it"
  rm -f "$WHEEL"
  WHEEL=
fi
if [ -z "$WHEEL" ]; then
  log "building mmcv $MMCV_VERSION with compiled ops for torch $TORCH_VERSION ($PY_TAG)."
  log "This happens once per machine and takes about 15 minutes on 2 cores; the wheel is cached in $CACHE"
  BUILD_DIR=$(mktemp -d "$CACHE/build.XXXXXX")
  trap 'rm -rf "$BUILD_DIR"' EXIT
  # mmcv's setup.py imports torch, hence no build isolation.
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} "$PY" -m pip wheel --disable-pip-version-check \
    --no-deps --no-build-isolation --no-cache-dir -w "$BUILD_DIR" "mmcv==$MMCV_VERSION" \
    > "$BUILD_DIR/build.log" 2>&1 || { tail -n 40 "$BUILD_DIR/build.log"; log "mmcv build failed"; exit 1; }
  # Only a finished wheel enters the cache: a killed build leaves nothing to trust.
  mv "$BUILD_DIR"/mmcv-*.whl "$CACHE"/
  WHEEL=$(mmcv_wheel)
  log "built $WHEEL"
fi

log "installing mmcv from $WHEEL, the OpenMMLab libraries and the project (editable)"
"${PIP[@]}" "$WHEEL"
"${PIP[@]}" -r requirements/mminstall.txt -r requirements/runtime.txt -r requirements/tests.txt
"${PIP[@]}" --no-build-isolation -e ".[tests]"

if ! healthy_imports=$(check_env 2>&1); then
  echo "$healthy_imports"
  log "the environment does not import; see the error above"
  exit 1
fi
fingerprint > "$STAMP"
log "done: activate with 'source $VENV/bin/activate'"
