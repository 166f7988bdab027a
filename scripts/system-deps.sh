#!/usr/bin/env bash
# Debian packages the tests need: Chromium (browser tests) and PostgreSQL (second database).
# Installs them when missing and running as root; otherwise says what to run.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "Installiere Debian-Pakete: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Für die Tests fehlen Debian-Pakete. Bitte installieren mit:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
