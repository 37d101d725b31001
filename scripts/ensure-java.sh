#!/bin/sh
# The Spark tests need a Java runtime (17 or newer). Install Debian's when
# there is none, so that `make test` works on a fresh machine.
set -e
if command -v java >/dev/null 2>&1; then
    exit 0
fi
echo "No Java runtime found: installing Debian's openjdk-17-jre-headless for the Spark tests"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq openjdk-17-jre-headless
