#!/bin/sh
# The seed's approach (SEED-dev-setup.md: backend/scripts/dev-setup.sh), reduced to what runs
# on a warm start: install only without node_modules, generate every time, wait for the
# database with a pg_isready loop, then the app. bench/warm_start.sh and bench/live_sync.sh
# time it beside devinit.
#
#     bench/seed-dev-setup.sh APP_DIR PG_BIN PG_PORT COMMAND [ARG...]
set -e
cd "$1"
pg_bin=$2
pg_port=$3
shift 3
if [ ! -d node_modules ]; then
    npm install
fi
npx prisma generate
until "$pg_bin/pg_isready" -h 127.0.0.1 -p "$pg_port" -q; do
    sleep 1
done
exec "$@"
