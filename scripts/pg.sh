# PostgreSQL for the project's scripts, defined once: where the server programs are, and a
# throw-away cluster in a temporary directory on a loopback port. Sourced (`. scripts/pg.sh`)
# by the tests, the benchmarks, tests/valgrind.sh and examples/demo.sh.
#
# PG_BIN: the server programs; default: pg_config's bindir when it holds initdb, else the
# newest /usr/lib/postgresql/*/bin.

pg_find_bin() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null)
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    echo /usr/lib/postgresql/15/bin
}
PG_BIN=${PG_BIN:-$(pg_find_bin)}

# pg_free_port: a TCP port on 127.0.0.1 that nothing listens on. SO_REUSEADDR as PostgreSQL
# binds, or a port in TIME_WAIT would look taken.
pg_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pg_as CMD: CMD (a shell string) as the postgres user when root (initdb refuses root), from
# / so the user needs no access to the caller's directory.
pg_as() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && su postgres -s /bin/sh -c "$1")
    else
        sh -c "$1"
    fi
}

# pg_init DIR: a fresh cluster in DIR (trust auth, superuser postgres). DIR's parents must be
# traversable by postgres: a mktemp -d under /tmp, chmod 755. initdb's log goes beside DIR.
pg_init() {
    local dir=$1
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    pg_as "'$PG_BIN/initdb' -D '$dir' -A trust -U postgres" >"$dir.initdb.log" 2>&1 ||
        { cat "$dir.initdb.log" >&2; return 1; }
}

# pg_options DIR PORT [SETTING...]: the server options pg_ctl passes: 127.0.0.1:PORT, the
# socket in DIR, and each SETTING ("fsync=off") as -c, after those of PG_SETTINGS (the tests
# set fsync=off there).
pg_options() {
    local dir=$1 port=$2 o s
    shift 2
    o="-p $port -k '$dir' -c listen_addresses=127.0.0.1"
    for s in ${PG_SETTINGS:-} "$@"; do o+=" -c $s"; done
    printf '%s' "$o"
}

# pg_ctl_as DIR ARGS: pg_ctl -D DIR ARGS as postgres, quietly (ARGS is one shell string).
pg_ctl_as() {
    pg_as "'$PG_BIN/pg_ctl' -D '$1' $2 >/dev/null"
}

# pg_start DIR PORT [SETTING...]: starts the cluster and waits until it accepts connections.
pg_start() {
    local dir=$1 port=$2
    shift 2
    pg_ctl_as "$dir" "-w -t 30 -o \"$(pg_options "$dir" "$port" "$@")\" -l '$dir/server.log' start"
}

# pg_stop DIR [MODE]: stops the cluster if it runs (fast by default; immediate crashes it).
pg_stop() {
    local dir=$1 mode=${2:-fast}
    [ -f "$dir/postmaster.pid" ] || return 0
    pg_ctl_as "$dir" "-m $mode -w -t 30 stop" 2>/dev/null || true
}

# pg_psql DIR PORT ARGS...: psql as postgres over the Unix socket in DIR, quiet and strict.
pg_psql() {
    local dir=$1 port=$2
    shift 2
    "$PG_BIN/psql" -X -q -A -t -h "$dir" -p "$port" -U postgres -d "${PGDATABASE:-postgres}" \
        -v ON_ERROR_STOP=1 "$@"
}
