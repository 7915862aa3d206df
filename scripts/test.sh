#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it.
# Extra arguments go to pytest (e.g. scripts/test.sh -k find -x).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in dcmtk dicom3tools postgresql haproxy; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]"
exec python3 -m pytest "$@"
