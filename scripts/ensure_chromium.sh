#!/usr/bin/env bash
# Make Debian's chromium available for the browser tests (never a browser download of playwright's own:
# no `playwright install`; playwright-python drives /usr/bin/chromium via executable_path / CDP).
# As root with apt: installs it when missing (about a minute, ~500 MB). Otherwise prints what to do; the
# browser test then skips, except under CI=true, where a missing browser is a failure.
set -u
CHROMIUM="${NPSNN_EDU_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium missing: installing Debian's chromium with apt-get (about a minute)"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null \
     && [ -x "$CHROMIUM" ]; then
    echo "chromium installed: $("$CHROMIUM" --version 2>/dev/null | tail -n 1)"
    exit 0
  fi
  echo "apt-get could not install chromium" >&2
else
  echo "chromium is missing and cannot be installed here (needs root and apt-get):" \
       "install Debian's 'chromium' package (sudo apt-get install chromium) to run the browser tests;" \
       "without it they are skipped" >&2
fi
if [ "${CI:-}" = "true" ]; then
  echo "CI=true: a missing browser is a failure" >&2
  exit 1
fi
exit 0
