#!/bin/sh
# Checks what building and testing keepwarm needs; installs it from Debian's packages and the
# npm lockfile when it can (root on Debian), and says what is missing otherwise.
# With --build (what `make run` uses): only what building and running keepwarm needs, not the
# test tools, the browser and the npm packages.
set -e
here=$(cd "$(dirname "$0")" && pwd)
tests=1
[ "${1:-}" = "--build" ] && tests=0
missing=""
pc() { pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"; }
# A fresh Debian has no compiler, make or C headers (`sh tests/deps.sh` runs without make).
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
command -v make >/dev/null 2>&1 || missing="$missing make"
[ -e /usr/include/stdio.h ] || missing="$missing libc6-dev"
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
pc libevent libevent-dev
pc jansson libjansson-dev
pc inih libinih-dev
# libcurl with OpenSSL: the upstream backend for https:// (bookworm's 7.88; libcurl4 at run time).
pc libcurl libcurl4-openssl-dev
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
# libzstd for Content-Encoding: zstd request bodies (bookworm's 1.5.4; libzstd1 at run time),
# and the zstd CLI the integration tests make such bodies with.
pc libzstd libzstd-dev
# ZSTD_d_windowLogMax (the 8 MiB window) is stable API from 1.4.0 on.
pkg-config --exists libzstd 2>/dev/null && ! pkg-config --atleast-version=1.4.0 libzstd &&
    missing="$missing libzstd-dev"
if [ $tests = 1 ]; then
command -v zstd >/dev/null 2>&1 || missing="$missing zstd"
pc cmocka libcmocka-dev
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
# clang-format for `make format-check`, which CI runs before the tests.
command -v clang-format >/dev/null 2>&1 || missing="$missing clang-format"
# ss (the keepalive test reads the kernel's timers)
command -v ss >/dev/null 2>&1 || missing="$missing iproute2"
# nginx for the scale-out test (tests/integration/scaleout.test.js runs /usr/sbin/nginx).
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$missing nginx"
fi
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "deps: installing$missing"
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null
    else
        echo "deps: missing Debian packages:$missing" >&2
        echo "deps: run as root: apt-get install$missing" >&2
        exit 1
    fi
fi
[ $tests = 1 ] || exit 0
# Debian's chromium for the status page's browser tests (tests/integration/status-page.test.js),
# without its recommends (avahi, cups, upower: daemons a headless test has no use for); about
# 2 minutes and 400 MB. Where it cannot be installed (not root, no apt) those tests are skipped
# and say so; CHROMIUM_BIN names another build.
if [ -z "$CHROMIUM_BIN" ] && ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "deps: installing chromium (the status page's browser tests)"
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium \
            >/dev/null || echo "deps: chromium could not be installed: the status page's browser tests will be skipped" >&2
    else
        echo "deps: chromium is missing (as root: apt-get install chromium): the status page's browser tests will be skipped" >&2
    fi
fi
# npm packages for the client tests, exactly as the lockfile pins them.
if [ -f "$here/package-lock.json" ]; then
    if [ ! -d "$here/node_modules" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
        echo "deps: npm ci (tests/package-lock.json)"
        (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
    fi
    # The agent CLIs ship native binaries in per-platform optional packages. Codex's launcher
    # finds its own; Claude Code's postinstall copies its binary over a shell stub
    # (bin/claude.exe), and npm may skip install scripts (--ignore-scripts, an npm that asks
    # for allowScripts): then the stub only prints an error. Run that postinstall ourselves.
    claude="$here/node_modules/@anthropic-ai/claude-code"
    if [ -d "$claude" ] && ! "$claude/bin/claude.exe" --version >/dev/null 2>&1; then
        echo "deps: linking Claude Code's native binary (its postinstall did not run)"
        (cd "$here" && node node_modules/@anthropic-ai/claude-code/install.cjs)
    fi
fi
