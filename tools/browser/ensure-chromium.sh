#!/usr/bin/env bash
# Makes sure a Chromium the end-to-end tests can drive is installed at $CHROMIUM_PATH
# (default /usr/bin/chromium). CI machines start clean, so the proactive e2e setup calls this
# before launching a browser. Installs Debian's `chromium` package; needs root (or sudo).
# `apt-get update` runs only when the package is not installable from the current lists.
# Idempotent and safe to run concurrently (one install at a time through a lock file).
set -euo pipefail

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [[ -x "$CHROMIUM_PATH" ]]; then
  exit 0
fi

if [[ "$CHROMIUM_PATH" != /usr/bin/chromium ]]; then
  echo "ensure-chromium: $CHROMIUM_PATH does not exist or is not executable (CHROMIUM_PATH points at a custom browser; install it yourself)" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: /usr/bin/chromium is missing and this is not a Debian/Ubuntu machine (no apt-get); install Chromium and set CHROMIUM_PATH" >&2
  exit 1
fi

SUDO=()
if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "ensure-chromium: installing chromium needs root: run 'apt-get install -y chromium' as root once" >&2
    exit 1
  fi
fi

# One installer at a time: two test runs starting together must not race on dpkg.
LOCK="${TMPDIR:-/tmp}/aip-ensure-chromium.lock"
exec 9>"$LOCK"
flock -w 900 9 || { echo "ensure-chromium: timed out waiting for another install ($LOCK)" >&2; exit 1; }
[[ -x "$CHROMIUM_PATH" ]] && exit 0

APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
export DEBIAN_FRONTEND=noninteractive

installable() {
  local candidate
  candidate="$(apt-cache policy chromium 2>/dev/null | awk '/Candidate:/ { print $2 }')"
  [[ -n "$candidate" && "$candidate" != "(none)" ]]
}

if ! installable; then
  echo "ensure-chromium: chromium not in the package lists; running apt-get update" >&2
  "${SUDO[@]}" apt-get "${APT_OPTS[@]}" update -q
fi
echo "ensure-chromium: installing Debian's chromium (first run on this machine only)" >&2
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" install -y -q --no-install-recommends chromium >&2

if [[ ! -x "$CHROMIUM_PATH" ]]; then
  echo "ensure-chromium: apt-get finished but $CHROMIUM_PATH is still missing" >&2
  exit 1
fi
echo "ensure-chromium: $("$CHROMIUM_PATH" --version 2>/dev/null || echo chromium) ready at $CHROMIUM_PATH" >&2
