# shellcheck shell=bash
# Sourced by .ci/run (and by hand: `source .ci/postgres.sh`): a throwaway PostgreSQL cluster for the
# PostgreSQL variants of the test suites (issue 13).
#
# - installs Debian's `postgresql` when no /usr/lib/postgresql/*/bin/initdb exists (after apt-get update);
# - runs initdb as the `postgres` user in a temp dir, starts the server on a free port of 127.0.0.1
#   (trust auth: it listens nowhere else and lives only for this run; durability is off, as a
#   throwaway cluster does not need it);
# - exports DATABASE_URL_TEST (the maintenance database; test/support/backends.ts creates one
#   database per test in it) and PG_CI_DIR;
# - registers an EXIT trap (kept alongside any EXIT trap already set) that stops the server and
#   removes the directory. `pg_ci_stop` does the same by hand.

pg_ci_start() {
  local initdb bindir port
  initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$initdb" ]; then
    echo "postgres.sh: installing Debian's postgresql" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    initdb=$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
  fi
  bindir=$(dirname "$initdb")
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres

  PG_CI_DIR=$(mktemp -d /tmp/backlog-bot-pg.XXXXXX)
  chown postgres "$PG_CI_DIR"
  # A port nobody listens on now (the kernel picks it; closed before PostgreSQL takes it).
  port=$(node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  su postgres -c "'$bindir/initdb' -D '$PG_CI_DIR/data' -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8" >"$PG_CI_DIR/initdb.log" 2>&1 || {
    cat "$PG_CI_DIR/initdb.log" >&2
    return 1
  }
  # Many test files open pools at once (store, graphile-worker, processes): room for them.
  su postgres -c "'$bindir/pg_ctl' -D '$PG_CI_DIR/data' -l '$PG_CI_DIR/server.log' -w -t 60 start -o \"-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$PG_CI_DIR' -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\"" >/dev/null || {
    cat "$PG_CI_DIR/server.log" >&2
    return 1
  }
  PG_CI_BINDIR=$bindir
  export PG_CI_DIR PG_CI_BINDIR
  export DATABASE_URL_TEST="postgres://postgres@127.0.0.1:$port/postgres"
  echo "postgres.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (DATABASE_URL_TEST)" >&2
}

pg_ci_stop() {
  if [ -n "${PG_CI_DIR:-}" ] && [ -d "$PG_CI_DIR" ]; then
    su postgres -c "'$PG_CI_BINDIR/pg_ctl' -D '$PG_CI_DIR/data' -m immediate -w stop" >/dev/null 2>&1 || true
    rm -rf "$PG_CI_DIR"
  fi
  unset PG_CI_DIR DATABASE_URL_TEST
}

pg_ci_start
# Keep whatever EXIT trap the caller had, and stop the cluster after it.
pg_ci_previous_trap=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
# shellcheck disable=SC2064
trap "${pg_ci_previous_trap:+$pg_ci_previous_trap; }pg_ci_stop" EXIT
