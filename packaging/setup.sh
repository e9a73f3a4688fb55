#!/usr/bin/env bash
# Prepare a fresh clone: the system libraries Qt needs and desktop-file-utils
# (Debian/Ubuntu), then a virtual environment in .venv holding Kernel Studio and
# its test tools.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Shared libraries PySide6's window system plugins load, with their Debian packages.
declare -A debian_package=(
  [libEGL.so.1]=libegl1
  [libGL.so.1]=libgl1
  [libfontconfig.so.1]=libfontconfig1
  [libxkbcommon.so.0]=libxkbcommon0
  [libxkbcommon-x11.so.0]=libxkbcommon-x11-0
  [libdbus-1.so.3]=libdbus-1-3
  [libxcb-cursor.so.0]=libxcb-cursor0
  [libxcb-icccm.so.4]=libxcb-icccm4
  [libxcb-keysyms.so.1]=libxcb-keysyms1
  [libxcb-shape.so.0]=libxcb-shape0
  [libxcb-render-util.so.0]=libxcb-render-util0
  [libxcb-image.so.0]=libxcb-image0
  [libxcb-xkb.so.1]=libxcb-xkb1
  [libxcb-randr.so.0]=libxcb-randr0
)
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
missing=()
for library in "${!debian_package[@]}"; do
  "$ldconfig" -p 2>/dev/null | grep -q "$library" || missing+=("${debian_package[$library]}")
done
# The packaging tests check the .desktop file with desktop-file-validate.
command -v desktop-file-validate >/dev/null || missing+=(desktop-file-utils)
# The --like tests compare with the programs themselves: ImageMagick, libvips and
# G'MIC in every run, GIMP and ImageJ (which needs an X server, Xvfb) in the slow
# ones, which CI runs too.
debian_has() { dpkg -s "$1" >/dev/null 2>&1; }
# Not `command -v convert`: another program may answer to that name in /usr/local/bin.
[ -x /usr/bin/convert ] || [ -x /usr/bin/magick ] || debian_has imagemagick \
  || missing+=(imagemagick)
command -v vips >/dev/null || missing+=(libvips-tools)
command -v gmic >/dev/null || missing+=(gmic)
command -v gimp-console-2.10 >/dev/null || missing+=(gimp)
{ [ -f /usr/share/java/ij.jar ] && command -v java >/dev/null; } || missing+=(imagej)
command -v xvfb-run >/dev/null || missing+=(xvfb)
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  else
    echo "setup: please install these libraries with your package manager: ${missing[*]}" >&2
  fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
