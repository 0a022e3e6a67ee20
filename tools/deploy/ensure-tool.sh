#!/bin/sh
# Usage: tools/deploy/ensure-tool.sh <command> [debian-package]
# Prints the absolute path of <command>, installing the Debian package (default: the command's
# name) first when it is missing. CI machines start without kubectl and tini; tests/deploy calls
# this from its setup so nobody has to remember. `apt-get update` runs only when apt does not know
# the package yet. Needs root or password-less sudo when something must be installed.
set -eu

tool="${1:?usage: ensure-tool.sh <command> [debian-package]}"
package="${2:-$tool}"

if ! command -v "$tool" >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then as_root=""; else as_root="sudo -n"; fi
  if ! apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [^(]'; then
    echo "[ensure-tool] apt-get update (apt does not know $package yet)" >&2
    $as_root apt-get update -qq >&2
  fi
  echo "[ensure-tool] installing $package" >&2
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends "$package" >&2
fi

path="$(command -v "$tool")"
resolved="$(readlink -f "$path")"

# Google's kubectl package installs a dispatcher that asks a cluster for its version to pick a
# matching kubectl.<major>.<minor> beside it (about 5 s when there is no cluster). `kustomize`
# needs no cluster: use the newest versioned binary directly.
if [ "$tool" = kubectl ]; then
  newest="$(ls "$(dirname "$resolved")" 2>/dev/null | grep -E '^kubectl\.1\.[0-9]+$' | sort -t. -k3 -n | tail -n 1 || true)"
  if [ -n "$newest" ]; then resolved="$(dirname "$resolved")/$newest"; fi
fi

echo "$resolved"
