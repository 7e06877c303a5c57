#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests, so every storage test also runs against the real
# database and not only PGlite.
#
#   scripts/postgres.sh        start (or reuse) the server; prints on stdout
#                                TEST_DATABASE_URL=postgres://…
#                                POSTGRES_STARTED=yes|no   (yes: this call started it)
#   scripts/postgres.sh stop   stop the server this script manages
#
# With TEST_DATABASE_URL or DATABASE_URL set it starts nothing and prints that URL. Otherwise it
# installs Debian's `postgresql` package when no server binaries are present, keeps the cluster in
# .tools/postgres/data (git-ignored, safe to delete) and listens on 127.0.0.1 only, with trust
# authentication: it is a test server that nothing but this machine can reach.
# Progress goes to stderr so that stdout stays machine-readable.
set -euo pipefail
cd "$(dirname "$0")/.."

root="$PWD/.tools/postgres"
data="$root/data"
log="$root/server.log"
db_name="tributary_test"
os_user="postgres"

say() { echo "[postgres] $*" >&2; }
fail() { echo "[postgres] error: $*" >&2; exit 1; }

find_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
    echo "$dir"
  fi
}

# initdb and postgres refuse to run as root, so the server runs as the `postgres` OS user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u "$os_user" -- "$@"
    else
      su "$os_user" -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

is_running() {
  [ -n "${bin:-}" ] && [ -f "$data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local p
  for p in $(seq "${TRIBUTARY_TEST_PG_PORT:-55432}" 55532); do
    if ! port_in_use "$p"; then
      echo "$p"
      return
    fi
  done
  fail "no free port between ${TRIBUTARY_TEST_PG_PORT:-55432} and 55532 on 127.0.0.1"
}

bin=$(find_bin_dir)

if [ "${1:-start}" = "stop" ]; then
  if is_running; then
    say "stopping the server in $data"
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  else
    say "no server running in $data"
  fi
  exit 0
fi
[ "${1:-start}" = "start" ] || fail "unknown command '$1' (expected start or stop)"

existing="${TEST_DATABASE_URL:-${DATABASE_URL:-}}"
if [ -n "$existing" ]; then
  say "using the database given in the environment"
  echo "TEST_DATABASE_URL=$existing"
  echo "POSTGRES_STARTED=no"
  exit 0
fi

if [ -z "$bin" ]; then
  say "no PostgreSQL server binaries under /usr/lib/postgresql; installing Debian's 'postgresql' package…"
  if [ "$(id -u)" -ne 0 ]; then
    fail "installing the 'postgresql' package needs root (apt-get install -y postgresql), or set TEST_DATABASE_URL"
  fi
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2; }; then
    fail "could not install the 'postgresql' package with apt-get; install it yourself or set TEST_DATABASE_URL"
  fi
  bin=$(find_bin_dir)
  [ -n "$bin" ] || fail "the 'postgresql' package is installed but no server binaries are under /usr/lib/postgresql/*/bin"
  say "installed $("$bin/postgres" --version)"
fi
id "$os_user" >/dev/null 2>&1 || fail "the OS user '$os_user' does not exist (the 'postgresql' package creates it)"

mkdir -p "$root"
started=no
if is_running; then
  # Line 4 of postmaster.pid is the port the running server listens on.
  port=$(sed -n 4p "$data/postmaster.pid")
  say "reusing the running server on 127.0.0.1:$port"
else
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating a cluster in $data"
    rm -rf "$data"
    mkdir -p "$data"
    chown "$os_user" "$data" 2>/dev/null || true
    chmod 700 "$data"
    as_pg "$bin/initdb" -D "$data" --username=postgres --auth=trust --encoding=UTF8 --no-locale >"$root/initdb.log" 2>&1 ||
      fail "initdb failed; see $root/initdb.log"
  fi
  port=$(free_port)
  touch "$log"
  chown "$os_user" "$log" 2>/dev/null || true
  say "starting the server on 127.0.0.1:$port"
  # No Unix socket: the folder Debian uses may not exist outside a packaged cluster, and TCP on
  # loopback is all the tests need.
  as_pg "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c fsync=off" start >/dev/null ||
    fail "the server did not start; see $log"
  started=yes
fi

# pg_ctl -w already waited; this also covers a reused server that is still recovering.
for _ in $(seq 1 60); do
  if "$bin/pg_isready" -h 127.0.0.1 -p "$port" -U postgres -q; then break; fi
  sleep 0.5
done
"$bin/pg_isready" -h 127.0.0.1 -p "$port" -U postgres -q || fail "the server on 127.0.0.1:$port does not answer; see $log"

psql_cmd=("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAq)
if [ "$("${psql_cmd[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" != "1" ]; then
  say "creating the database $db_name"
  "${psql_cmd[@]}" -c "CREATE DATABASE $db_name" >/dev/null
fi

echo "TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/$db_name"
echo "POSTGRES_STARTED=$started"
