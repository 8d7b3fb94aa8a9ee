#!/usr/bin/env bash
# Start (once) a private PostgreSQL cluster for the tests and print its URL;
# `postgres.sh stop` stops it (make test does, whatever the tests' outcome).
# It listens on 127.0.0.1 only and lives under ${GOVERN_TEST_PG_DIR:-/tmp/govern-test-pg}.
set -euo pipefail
PORT="${GOVERN_TEST_PG_PORT:-55433}"
DIR="${GOVERN_TEST_PG_DIR:-/tmp/govern-test-pg}"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
run_as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}
if [ "${1:-}" = stop ]; then
  run_as_postgres "$BIN/pg_ctl -D $DIR/data -m fast stop" >/dev/null 2>&1 || true
  exit 0
fi
if ! run_as_postgres "$BIN/pg_ctl -D $DIR/data status" >/dev/null 2>&1; then
  rm -rf "$DIR"; mkdir -p "$DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres "$DIR"
  run_as_postgres "$BIN/initdb -D $DIR/data -U postgres --auth=trust" >/dev/null
  run_as_postgres "$BIN/pg_ctl -D $DIR/data -l $DIR/log -w -o '-p $PORT -k $DIR -c listen_addresses=127.0.0.1' start" >/dev/null
fi
echo "postgresql+psycopg://postgres@127.0.0.1:${PORT}/postgres"
