#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL server for tests and benchmarks, on loopback.
# Installs Debian's postgresql if missing. Usage: scripts/postgres.sh start|stop|url
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PG_PORT:-55432}"
DATA="$PWD/var/pgdata"
DB="${PG_DATABASE:-fruehfoerderung_test}"
URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_pg() {   # the server refuses to run as root: use the postgres system user then
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

install_server() {
  if [ -z "$(pg_bin)" ]; then
    echo "Installing PostgreSQL from Debian packages ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
}

start() {
  install_server
  local bin; bin="$(pg_bin)"
  mkdir -p var
  if [ ! -f "$DATA/PG_VERSION" ]; then
    mkdir -p "$DATA"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$DATA"
    as_pg "'$bin/initdb' -D '$DATA' -U postgres -A trust -E UTF8 --no-locale >/dev/null"
  fi
  if ! as_pg "'$bin/pg_ctl' -D '$DATA' status" >/dev/null 2>&1; then
    if ! as_pg "'$bin/pg_ctl' -D '$DATA' -l '$DATA/server.log' -w -o \"-p $PORT -k '$DATA' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=100\" start" >/dev/null; then
      echo "PostgreSQL startete nicht (Port $PORT belegt? PG_PORT=… wählt einen anderen). Log:" >&2
      tail -n 5 "$DATA/server.log" >&2
      exit 1
    fi
  fi
  as_pg "'$bin/psql' -h 127.0.0.1 -p $PORT -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname='$DB'\"" | grep -q 1 \
    || as_pg "'$bin/createdb' -h 127.0.0.1 -p $PORT -U postgres '$DB'"
  echo "$URL"
}

stop() {
  local bin; bin="$(pg_bin)"
  [ -n "$bin" ] && [ -f "$DATA/PG_VERSION" ] && as_pg "'$bin/pg_ctl' -D '$DATA' -m fast stop" >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
