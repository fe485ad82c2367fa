#!/usr/bin/env bash
# Installs the optional Debian packages the platform uses, when we can (root + apt-get).
# Nothing here is required to start: each component says clearly what it lacks.
set -u
want=()
command -v bwrap >/dev/null 2>&1 || want+=(bubblewrap)
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || want+=(mosquitto)
[ -x /usr/bin/chromium ] || want+=(chromium)
# CJK glyphs for the browser tests (zh_Hant/zh_Hans pages must render, not show boxes).
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || want+=(fonts-noto-cjk)
command -v wrk >/dev/null 2>&1 || want+=(wrk)
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${want[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null 2>&1 \
    || echo "WARNING: could not install ${want[*]}; dependent features will report what is missing."
  # The Debian package starts its own mosquitto on 1883; we never use that one.
else
  echo "NOTE: optional system packages missing: ${want[*]} (install them with your package manager)."
fi
exit 0
