#!/usr/bin/env bash
# Install the server packages the tests run for real (PostgreSQL, Redis) and the
# browser the web tests drive (Debian's chromium with its chromedriver) when missing.
# Needs root and apt-get; elsewhere it says what to install and the tests that
# need them are skipped with that reason.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]} for the tests"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # the packages start servers of their own; the tests run private servers instead
  service postgresql stop >/dev/null 2>&1 || true
  service redis-server stop >/dev/null 2>&1 || true
else
  echo "note: ${missing[*]} not installed; the tests that need them will be skipped" >&2
fi
