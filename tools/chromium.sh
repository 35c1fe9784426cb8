#!/bin/sh
# The browser the playground's tests drive (tests/test_app_browser.py): Debian's chromium. `make test` runs this
# first. Chromium present: nothing to do. Missing: apt-get installs it when this is root (or passwordless sudo
# is there); otherwise one line says how, and make stops. (Playwright's own `playwright install chromium`
# downloads from a CDN, which a machine limited to the package registries cannot reach; apt is the way.)
command -v chromium >/dev/null 2>&1 && exit 0
how="sudo apt-get update && sudo apt-get install -y chromium"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "make test: the browser tests need Chromium, and this machine has no apt-get: install chromium with its package manager (the executable on PATH as chromium), then run make test again" >&2
    exit 1
fi
if [ "$(id -u)" = 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
else
    echo "make test: the browser tests need Debian's chromium, and installing it needs root: run  $how  then make test again" >&2
    exit 1
fi
echo "make test: installing Debian's chromium for the browser tests (apt-get update, apt-get install chromium)"
$sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >/dev/null \
    && command -v chromium >/dev/null 2>&1 && exit 0
echo "make test: apt-get could not install chromium (see above); install it with  $how  then run make test again" >&2
exit 1
