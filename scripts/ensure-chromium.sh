#!/bin/sh
# The browser tests drive Debian's Chromium through Playwright. Install it when
# it is missing, so that `make test` works on a fresh machine; where it cannot
# be installed, the browser tests skip and say why.
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
echo "No Chromium found: installing Debian's chromium for the browser tests"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium; }; then
    echo "warning: could not install chromium; the browser tests will be skipped"
fi
exit 0
