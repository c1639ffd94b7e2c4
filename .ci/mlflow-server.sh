#!/usr/bin/env bash
# Start a throwaway MLflow tracking server for hposim's MLflow tests, on 127.0.0.1 only.
#
#   .ci/mlflow-server.sh DIR [PORT] [VENV]      start (or reuse) a server; prints its PID on stdout
#   .ci/mlflow-server.sh stop DIR               stop the server started for DIR
#
# DIR   holds the SQLite store (DIR/mlflow.db), artifacts (DIR/artifacts), the log
#       (DIR/server.log) and the PID file (DIR/server.pid). Created if missing.
# PORT  default 5077.
# VENV  virtual environment for mlflow, default target/mlflow-venv (relative to the repository).
#       Created with python3 -m venv and mlflow==$MLFLOW_VERSION if it lacks that version.
#
# Environment: MLFLOW_VERSION (default the tested 3.17.2), MLFLOW_START_TIMEOUT seconds (default 90;
# startup measured at about 7 s on 2 cores, the first pip install about 35 s, 850 MB).
#
# Idempotent-ish: if DIR/server.pid names a live process and the port answers /health, that PID is
# printed and nothing else happens. If the port answers but is not ours, the script fails.
# Only the PID goes to stdout (so `pid=$(.ci/mlflow-server.sh ...)` works); progress goes to stderr.
# The server outlives this script; stop it with `.ci/mlflow-server.sh stop DIR` (or kill PID:
# SIGTERM to the PID also stops its uvicorn child).
set -euo pipefail
cd "$(dirname "$0")/.."

MLFLOW_VERSION="${MLFLOW_VERSION:-3.17.2}"
TIMEOUT="${MLFLOW_START_TIMEOUT:-90}"

log() { echo "mlflow-server: $*" >&2; }

usage() {
    sed -n '2,9p' "$0" >&2
    exit 2
}

# Is anything answering GET /health on the port? Uses python3 (CI may have no curl).
healthy() {
    python3 - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

if [ "${1:-}" = stop ]; then
    [ $# -eq 2 ] || usage
    pidfile="$2/server.pid"
    if [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; then
        pid=$(cat "$pidfile")
        kill -TERM "$pid"
        # mlflow forwards SIGTERM to its uvicorn child; wait for both to go.
        for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.2; done
        alive "$pid" && { log "PID $pid ignored SIGTERM, sending SIGKILL"; kill -KILL "$pid"; }
        log "stopped PID $pid"
    else
        log "no running server recorded in $pidfile"
    fi
    rm -f "$pidfile"
    exit 0
fi

[ $# -ge 1 ] && [ $# -le 3 ] || usage
dir="$1"
port="${2:-5077}"
venv="${3:-target/mlflow-venv}"
mkdir -p "$dir/artifacts"
dir="$(cd "$dir" && pwd)"          # SQLite URIs need an absolute path
pidfile="$dir/server.pid"
logfile="$dir/server.log"

# Already running for this DIR?
if [ -f "$pidfile" ] && alive "$(cat "$pidfile")" && healthy "$port"; then
    log "already running on 127.0.0.1:$port (PID $(cat "$pidfile"))"
    cat "$pidfile"
    exit 0
fi
if healthy "$port"; then
    log "something else already answers on 127.0.0.1:$port; pick another port" >&2
    exit 1
fi

# Install mlflow (the full package: mlflow-skinny has no flask, so `mlflow server` fails with
# ModuleNotFoundError: No module named 'flask').
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mlflow') != '$MLFLOW_VERSION')" 2>/dev/null; then
    log "installing mlflow==$MLFLOW_VERSION into $venv (about 35 s)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "mlflow==$MLFLOW_VERSION" >&2
fi

# Start it, detached from this shell's process group (setsid) so a CI step can end and leave it.
# MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false: otherwise mlflow also starts a job runner and seven huey
#   consumers (about 1.4 GB more RSS) that the tracking REST API does not need.
# --workers 1: uvicorn's default is 4; one is plenty for a test and keeps SQLite writes in one process.
# Host/CORS middleware: the defaults accept Host 127.0.0.1:PORT / localhost:PORT and no Origin header
#   (what ureq and curl send); other Host headers get 403 "Invalid Host header".
log "starting mlflow $MLFLOW_VERSION on 127.0.0.1:$port, store $dir/mlflow.db, log $logfile"
setsid_cmd=()
command -v setsid >/dev/null 2>&1 && setsid_cmd=(setsid)
MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false \
    nohup "${setsid_cmd[@]}" "$venv/bin/mlflow" server \
    --backend-store-uri "sqlite:///$dir/mlflow.db" \
    --default-artifact-root "$dir/artifacts" \
    --host 127.0.0.1 --port "$port" --workers 1 \
    >"$logfile" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$pidfile"

# Wait until /health answers; on timeout or early exit show the log.
deadline=$((SECONDS + TIMEOUT))
until healthy "$port"; do
    if ! alive "$pid"; then
        log "the server exited during startup; its log:"
        cat "$logfile" >&2
        rm -f "$pidfile"
        exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "no answer on 127.0.0.1:$port/health after ${TIMEOUT} s; its log:"
        cat "$logfile" >&2
        kill -TERM "$pid" 2>/dev/null || true
        rm -f "$pidfile"
        exit 1
    fi
    sleep 0.5
done
log "ready after $((SECONDS + TIMEOUT - deadline)) s: http://127.0.0.1:$port (PID $pid)"
echo "$pid"
