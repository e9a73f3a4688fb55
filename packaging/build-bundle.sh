#!/usr/bin/env bash
# Build the one-folder bundle into dist/kernelstudio/ with PyInstaller.
# Usage: bash packaging/build-bundle.sh [DIST_DIR [WORK_DIR]]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dist=${1:-dist}
work=${2:-build}
python=${PYTHON:-.venv/bin/python}
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work" packaging/kernelstudio.spec
echo "built $dist/kernelstudio/kernelstudio"
