#!/usr/bin/env bash
# Start the timer worker and the web app (gunicorn on 127.0.0.1:8000); stop both together.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export FF_SECRET_KEY="${FF_SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_hex(32))')}"
"$BIN/flask" --app webapp timers run &
WORKER=$!
trap 'kill "$WORKER" 2>/dev/null || true; wait "$WORKER" 2>/dev/null || true' EXIT INT TERM
echo "Verfahrensmanagement läuft auf http://${FF_BIND:-127.0.0.1:8000}  (Beenden mit Strg+C)"
# gunicorn.conf.py: gevent workers (slow clients), FF_BIND (127.0.0.1:8000), FF_WORKERS (2)
"$BIN/gunicorn" --config gunicorn.conf.py --access-logfile - "webapp:create_app()"
