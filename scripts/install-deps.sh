#!/usr/bin/env bash
# Installs the system packages cwauth needs to build and test. Idempotent:
# it installs only what is missing and runs `apt-get update` only when it must.
set -euo pipefail

DEBS=(mosquitto mosquitto-clients mosquitto-dev libmosquitto-dev libsqlite3-dev libssl-dev sqlite3 python3-pip)
# The TLS tests of `cwauth serve` make their self-signed certificates with the openssl command.
DEBS+=(openssl)
# The admin web page's browser test drives headless Chromium through selenium.
DEBS+=(chromium chromium-driver)
PIP_PKGS=(paho-mqtt selenium)

missing=()
for pkg in "${DEBS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian package starts a system broker on :1883; cwauth's tests and
# `make run` start their own, so stop the system one if it is running.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
  $SUDO systemctl stop mosquitto || true
fi
if pgrep -x mosquitto >/dev/null 2>&1 && [ -f /run/mosquitto/mosquitto.pid ]; then
  $SUDO kill "$(cat /run/mosquitto/mosquitto.pid)" 2>/dev/null || true
fi

PY=python3
for mod in "${PIP_PKGS[@]}"; do
  import_name=${mod//-/_}
  [ "$import_name" = "paho_mqtt" ] && import_name="paho.mqtt"
  if ! $PY -c "import $import_name" 2>/dev/null; then
    echo "install-deps: pip installing $mod"
    $PY -m pip install -q "$mod"
  fi
done
echo "install-deps: ok"
