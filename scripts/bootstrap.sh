# Sourced by scripts/run and scripts/test: make .venv with duban installed.
# Needs only python3 (3.11+); installs python3-venv with apt when venv is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "duban needs Python 3.11 or newer (found: $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PY" -m venv "$VENV" 2>/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      ver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      apt-get update -qq && (apt-get install -y -qq "python${ver}-venv" || apt-get install -y -qq python3-venv)
      rm -rf "$VENV"; "$PY" -m venv "$VENV"
    else
      echo "cannot create a virtualenv: install python3-venv" >&2; exit 1
    fi
  fi
fi
# reinstall only when the pins changed
stamp="$VENV/.installed-$(cat "$ROOT/setup.cfg" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)-${DUBAN_EXTRAS:-base}"
if [ ! -f "$stamp" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  if [ -n "${DUBAN_EXTRAS:-}" ]; then
    "$VENV/bin/python" -m pip install -q -e "$ROOT[${DUBAN_EXTRAS}]"
  else
    "$VENV/bin/python" -m pip install -q -e "$ROOT"
  fi
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi

# browser libraries (bpmn-js, ECharts) from the pinned lockfile, served from node_modules
lock_stamp="$ROOT/node_modules/.duban-$(sha256sum "$ROOT/package-lock.json" | cut -c1-16)"
if [ ! -f "$lock_stamp" ]; then
  if ! command -v npm >/dev/null; then
    echo "duban's pages need Node.js and npm to install bpmn-js and ECharts" >&2; exit 1
  fi
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$lock_stamp"
fi
# the interface's translations (zh_CN, en) from their .po sources
"$VENV/bin/python" -m web.i18n compile
