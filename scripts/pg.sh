#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests.
#
#   scripts/pg.sh start DIR   initialise (first time) and start a server in DIR; prints its URL
#   scripts/pg.sh url DIR     prints the URL of the server running in DIR (exit 1 if none)
#   scripts/pg.sh stop DIR    stops it (the data stays; start again reuses it)
#   scripts/pg.sh clean DIR   stops it and deletes DIR
#
# e.g.  export PORTCULLIS_TEST_PG_URL=$(scripts/pg.sh start /tmp/portcullis-pg)
#
# The server listens on 127.0.0.1 only, on a free port chosen here (never a fixed one), with
# trust authentication for loopback and its Unix socket in DIR; it has a superuser and a
# database both named `portcullis`. It is tuned for tests (fsync off): never keep data in it.
# initdb refuses to run as root, so as root the server runs as the `postgres` system user when
# there is one, else as `portcullis-test` (created here; PG_OS_USER=name picks another). DIR belongs to the cluster; as root it
# is handed to that user. Every command is idempotent. Only the URL goes to stdout.
set -euo pipefail

PG_VERSION=15
PG_BIN="${PG_BIN:-/usr/lib/postgresql/${PG_VERSION}/bin}"
DB_USER=portcullis
DB_NAME=portcullis

die() {
  echo "pg.sh: $*" >&2
  exit 1
}

usage() { die "usage: $0 start|stop|url|clean DIR"; }

[[ $# -eq 2 ]] || usage
cmd="$1"
[[ -n "$2" ]] || usage
dir="$(realpath -m -- "$2")"
data="$dir/data"
log="$dir/postgres.log"
port_file="$dir/port"
cd /  # the server user may not be able to enter the caller's directory

# The OS user the server runs as, and how to run a command as it.
os_user="$(id -un)"
as_user() { "$@"; }
if [[ $(id -u) -eq 0 ]]; then
  if [[ -n "${PG_OS_USER:-}" ]]; then
    os_user="$PG_OS_USER"
  elif id -u postgres >/dev/null 2>&1; then
    os_user=postgres
  else
    os_user=portcullis-test
  fi
  [[ "$os_user" != root ]] || die "PG_OS_USER must not be root (initdb refuses it)"
  if ! id -u "$os_user" >/dev/null 2>&1; then
    # Another pg.sh may be creating it at the same moment: accept it existing afterwards.
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$os_user" >/dev/null 2>&1 ||
      id -u "$os_user" >/dev/null 2>&1 || die "cannot create system user $os_user"
  fi
  as_user() { runuser -u "$os_user" -- "$@"; }
fi

running() {
  [[ -f "$data/PG_VERSION" ]] && as_user "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1
}

url() { echo "postgres://${DB_USER}@127.0.0.1:$(cat "$port_file")/${DB_NAME}"; }

# A TCP port on 127.0.0.1 that nothing listens on now, picked by the kernel; the port of the
# previous run first, so that a restarted server keeps its URL.
free_port() {
  local last
  last="$(cat "$dir/last_port" 2>/dev/null || true)"
  if [[ "$last" =~ ^[0-9]+$ ]] && ! (exec 3<>"/dev/tcp/127.0.0.1/$last") 2>/dev/null; then
    rm -f "$dir/last_port"  # try it once only
    echo "$last"
    return
  fi
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
    return
  fi
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  die "no free port found"
}

init() {
  [[ -x "$PG_BIN/initdb" ]] || die "PostgreSQL $PG_VERSION is not installed ($PG_BIN/initdb missing; apt-get install postgresql-$PG_VERSION)"
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    chown "$os_user:" "$dir"
    chmod 700 "$dir"
    as_user test -w "$dir" ||
      die "user $os_user cannot reach $dir (a parent directory is not searchable); use a directory under /tmp"
  fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    as_user "$PG_BIN/initdb" -D "$data" --username="$DB_USER" --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    # Loopback only: no Unix-socket-less remote access, trust only from this machine.
    cat >"$data/pg_hba.conf" <<'EOF'
local all all              trust
host  all all 127.0.0.1/32 trust
host  all all ::1/128      trust
EOF
    cat >>"$data/postgresql.conf" <<EOF
# scripts/pg.sh: a throwaway test server
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 200
dynamic_shared_memory_type = mmap
logging_collector = off
log_min_messages = warning
EOF
    chown "$os_user:" "$data/pg_hba.conf" 2>/dev/null || true
  fi
}

start() {
  if running && [[ -f "$port_file" ]]; then
    url
    return
  fi
  init
  local attempt port
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    # The port is chosen before the server binds it; if another process takes it first, the
    # start fails and the next attempt picks another one.
    if as_user "$PG_BIN/pg_ctl" -D "$data" -l "$log" -o "-p $port" -w -t 60 start >/dev/null; then
      echo "$port" >"$port_file"
      echo "$port" >"$dir/last_port"
      break
    fi
    if running; then
      as_user "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    [[ $attempt -lt 5 ]] || { tail -n 20 "$log" >&2 2>/dev/null; die "server did not start"; }
  done
  if ! as_user "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    as_user "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME" ||
      die "createdb $DB_NAME failed"
  fi
  url
}

stop() {
  if running; then
    as_user "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null ||
      die "pg_ctl stop failed (see $log)"
  fi
  rm -f "$port_file"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  url)
    running && [[ -f "$port_file" ]] || die "no server running in $dir"
    url
    ;;
  clean)
    stop
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
