#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it: the whole suite (every
# lane: slow, postgres, dcmtk, network), then the network tests again on plain pynetdicom
# (QRSCP_PYNETDICOM_PATCHES=off; tests of what the patches add are skipped with the reason).
# Extra arguments go to both pytest runs (e.g. scripts/test.sh -k find -x).
# For development, `pytest` without arguments is the fast lane (slow and postgres tests deselected).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# orthanc and libgdcm-tools (gdcmscu): the interop lane (pytest -m interop); chromium and orthanc-dicomweb: the web tests; haproxy: the node tests.
for pkg in dcmtk dicom3tools postgresql orthanc libgdcm-tools chromium orthanc-dicomweb haproxy; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]"
python3 -m pytest tests "$@"
QRSCP_PYNETDICOM_PATCHES=off python3 -m pytest tests -m "network and not slow and not postgres" "$@"
