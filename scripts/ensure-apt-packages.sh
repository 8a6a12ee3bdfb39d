#!/usr/bin/env bash
# Installs the Debian packages named as arguments when they are missing.
# As root it uses apt-get; otherwise it names what is missing and fails, so a
# newcomer learns exactly what to install instead of meeting a confusing error later.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing Debian packages (${missing[*]}) and no apt-get on this machine: install them by hand" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing Debian packages: ${missing[*]}" >&2
  echo "       run 'sudo apt-get install ${missing[*]}' or run make as root" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || { echo "error: apt-get update failed: is the Debian mirror reachable?" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || { echo "error: apt-get could not install: ${missing[*]}" >&2; exit 1; }
