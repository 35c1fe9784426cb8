#!/bin/sh
# The browser the playground's tests drive (tests/test_app_browser.py): Debian's chromium, or else the one
# Playwright installs for itself. `make test` runs this first, with PLAYWRIGHT set to the venv's playwright.
# Chromium present: nothing to do. Missing: apt-get installs Debian's when this is root (or passwordless sudo is
# there); where that cannot be, `playwright install chromium` (it downloads from Playwright's CDN, which a
# machine limited to the package registries cannot reach); when both fail, one line says how, and make stops.
command -v chromium >/dev/null 2>&1 && exit 0
how="sudo apt-get update && sudo apt-get install -y chromium"
playwright=${PLAYWRIGHT:-playwright}

with_playwright() {   # $1: why apt was not the way
    if command -v "$playwright" >/dev/null 2>&1; then
        if "$playwright" install --list 2>/dev/null | grep -q chromium; then
            exit 0   # installed by an earlier run
        fi
        echo "make test: $1; trying Playwright's own Chromium ($playwright install chromium)"
        "$playwright" install chromium >/dev/null 2>&1 && exit 0
    fi
    echo "make test: the browser tests need Chromium: $1, and Playwright's own installer ($playwright install chromium; PLAYWRIGHT names it) failed or is not there; run  $how  (or install chromium as the executable chromium on PATH), then make test again" >&2
    exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
    with_playwright "this machine has no apt-get"
fi
if [ "$(id -u)" = 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
else
    with_playwright "installing Debian's chromium needs root"
fi
echo "make test: installing Debian's chromium for the browser tests (apt-get update, apt-get install chromium)"
$sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >/dev/null \
    && command -v chromium >/dev/null 2>&1 && exit 0
with_playwright "apt-get could not install chromium (see above)"
