#!/usr/bin/env bash
# Add Kernel Studio to the current user's application menu and "Open With" lists.
#
#   bash packaging/install-desktop.sh [COMMAND]     install
#   bash packaging/install-desktop.sh --uninstall   remove what install added
#
# COMMAND is the program to start: by default this clone's .venv/bin/kernelstudio,
# else `kernelstudio` on PATH; give a bundle's dist/kernelstudio/kernelstudio to
# install that instead. Files go under ${XDG_DATA_HOME:-~/.local/share}.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
desktop_file="$data/applications/kernelstudio.desktop"

refresh_caches() {
  if command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$data/applications" || true
  fi
  if command -v gtk-update-icon-cache >/dev/null; then
    gtk-update-icon-cache -q -f -t "$data/icons/hicolor" || true
  fi
}

if [ "${1:-}" = "--uninstall" ]; then
  rm -f "$desktop_file" "$data/icons/hicolor/scalable/apps/kernelstudio.svg"
  rm -f "$data"/icons/hicolor/*/apps/kernelstudio.png
  refresh_caches
  echo "removed Kernel Studio's menu entry and icons from $data"
  exit 0
fi

command=${1:-}
if [ -z "$command" ]; then
  if [ -x "$here/../.venv/bin/kernelstudio" ]; then
    command="$(cd "$here/.." && pwd)/.venv/bin/kernelstudio"
  elif command -v kernelstudio >/dev/null; then
    command=$(command -v kernelstudio)
  else
    echo "install-desktop: no kernelstudio found; run packaging/setup.sh or name the program" >&2
    exit 1
  fi
fi
if [ ! -x "$command" ]; then
  echo "install-desktop: '$command' is not an executable program" >&2
  exit 1
fi
command=$(cd "$(dirname "$command")" && pwd)/$(basename "$command")

for folder in "$here"/icons/hicolor/*/apps; do
  size=$(basename "$(dirname "$folder")")
  install -D -m 644 "$folder/kernelstudio.png" "$data/icons/hicolor/$size/apps/kernelstudio.png"
done
install -D -m 644 "$here/../resources/icon.svg" "$data/icons/hicolor/scalable/apps/kernelstudio.svg"

mkdir -p "$data/applications"
# Exec takes a quoted program path (it may hold spaces); TryExec takes it as is.
escaped=$(printf '%s' "$command" | sed 's/[\\"`$]/\\\\&/g')
sed -e "s|^Exec=kernelstudio|Exec=\"$escaped\"|" -e "s|^TryExec=kernelstudio|TryExec=$command|" \
  "$here/kernelstudio.desktop" > "$desktop_file.tmp"
mv "$desktop_file.tmp" "$desktop_file"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$desktop_file"
fi
refresh_caches
echo "installed $desktop_file starting $command"
