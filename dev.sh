#!/usr/bin/env bash
# micrograd_x task runner: sets up (or refreshes) the project's virtual environment, then runs a task.
#
#   ./dev.sh demo    run the demo
#   ./dev.sh test    lint, format check, type check and the whole test suite
#   ./dev.sh bench   the benchmarks, side by side with micrograd (see benchmarks/README.md)
#
# Each task creates .venv on first use and reinstalls only when pyproject.toml changes, so a second
# run is fast. On Debian/Ubuntu, as root (or with passwordless sudo), missing system packages
# (python3-venv, Graphviz's `dot`, and for the tests Chromium and its driver) are installed with
# apt-get.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY=${PYTHON:-python3}

say() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

apt_install() {
  command -v apt-get >/dev/null || return 1
  say "installing $* with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_graphviz() {
  command -v dot >/dev/null && return 0
  if ! apt_install graphviz; then
    say "Graphviz's 'dot' program is missing and could not be installed automatically."
    say "Install it yourself: 'sudo apt-get install graphviz' (Debian/Ubuntu),"
    say "'brew install graphviz' (macOS) or 'conda install -c conda-forge graphviz'."
    say "Everything but rendering diagrams works without it."
  fi
}

ensure_chromium() {
  # The explorer's saved page is tested in a real browser: the system's headless Chromium.
  command -v chromium >/dev/null && command -v chromedriver >/dev/null && return 0
  if ! apt_install chromium chromium-driver; then
    say "Chromium and its driver are missing and could not be installed automatically."
    say "Install them yourself: 'sudo apt-get install chromium chromium-driver' (Debian/Ubuntu)."
    say "Without them the browser tests fail under CI and are skipped elsewhere."
  fi
}

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"
      apt_install python3-venv || { say "cannot create a virtual environment: install python3-venv"; exit 1; }
      "$PY" -m venv "$VENV"
    fi
  fi
  local extras=$1 stamp="$VENV/.installed-$1" want
  want=$(cat pyproject.toml "$0" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing micrograd_x[$extras] into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e ".[$extras]"
    echo "$want" >"$stamp"
  fi
}

task=${1:-}
shift || true
case "$task" in
  demo)
    ensure_graphviz
    ensure_venv demo
    exec "$VENV/bin/micrograd-x" demo "$@"
    ;;
  test)
    ensure_graphviz
    ensure_chromium
    # The bench extra too: the suite runs the benchmark harness at tiny sizes (it imports
    # micrograd only there), so the harness cannot rot unnoticed.
    ensure_venv test,bench
    export PATH="$PWD/$VENV/bin:$PATH"
    profile=dev
    [ -n "${CI:-}" ] && profile=ci
    say "ruff check";         ruff check .
    say "ruff format --check"; ruff format --check .
    say "mypy --strict micrograd_x"; mypy --strict micrograd_x
    say "pytest (hypothesis profile: $profile)"
    exec pytest --hypothesis-profile="$profile" "$@"
    ;;
  bench)
    ensure_graphviz
    ensure_venv bench
    exec "$VENV/bin/python" -m benchmarks "$@"
    ;;
  *)
    echo "usage: ./dev.sh demo | test | bench" >&2
    exit 2
    ;;
esac
