#!/usr/bin/env bash
# Make Debian's chromium available for the browser tests (never a browser download of playwright's own).
# As root with apt: installs it when missing. Otherwise prints what to do; the browser test then skips,
# except under CI=true, where a missing browser is a failure.
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium missing: installing Debian's chromium with apt-get (about a minute)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null && exit 0
  echo "apt-get could not install chromium" >&2
else
  echo "chromium is missing and cannot be installed here (needs root and apt):" \
       "install Debian's 'chromium' package to run the browser tests" >&2
fi
if [ "${CI:-}" = "true" ]; then
  exit 1
fi
exit 0
