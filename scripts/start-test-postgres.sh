#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the records tests and print the URL to export.
#
#   eval "$(scripts/start-test-postgres.sh | grep '^export ')"   # then: .venv/bin/pytest tests/records
#
# Idempotent: installs postgresql with apt-get if no initdb is found, initialises a cluster in a temporary
# directory (trust authentication, only on 127.0.0.1) unless it exists, starts it unless a server already
# answers on the port, and creates the test database unless it exists. Stop it with:
#   pg_ctl -D "$WEAROFF_PG_DIR/data" stop      (run as the postgres user when this script ran as root)
set -euo pipefail

PORT="${WEAROFF_PG_PORT:-5432}"
HOST=127.0.0.1
DB="${WEAROFF_PG_DB:-wearoff_test}"
PG_DIR="${WEAROFF_PG_DIR:-${TMPDIR:-/tmp}/wearoff-test-pg}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

find_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$found" ] && command -v initdb >/dev/null 2>&1; then
    found="$(dirname "$(command -v initdb)")"
  fi
  echo "$found"
}

BIN="$(find_bin)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "installing postgresql with apt-get ..." >&2
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  BIN="$(find_bin)"
fi

# initdb and the server refuse to run as root: use the postgres system user then.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PG_DIR" postgres
  run_pg() { su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; }
  mkdir -p "$PG_DIR"
  chown postgres "$PG_DIR"
else
  run_pg() { "$@"; }
  mkdir -p "$PG_DIR"
fi

if ! "$BIN/pg_isready" -q -h "$HOST" -p "$PORT"; then
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    run_pg "$BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --encoding=UTF8 >&2
  fi
  run_pg "$BIN/pg_ctl" -D "$PG_DIR/data" -o "-k $PG_DIR -p $PORT -h $HOST" -l "$PG_DIR/log" -w start >&2
fi

for _ in $(seq 1 30); do
  "$BIN/pg_isready" -q -h "$HOST" -p "$PORT" && break
  sleep 1
done

exists="$("$BIN/psql" -h "$HOST" -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")"
if [ "$exists" != "1" ]; then
  "$BIN/createdb" -h "$HOST" -p "$PORT" -U postgres "$DB"
fi

echo "PostgreSQL is up on $HOST:$PORT (data in $PG_DIR/data). Run:" >&2
echo "export WEAROFF_TEST_POSTGRES_URL=postgresql+psycopg://postgres:postgres@$HOST:$PORT/$DB"
