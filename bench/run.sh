#!/usr/bin/env bash
# Side-by-side benchmark of Atelier (SQLite, PostgreSQL) and the reference Yjs servers
# (@y/websocket-server 0.1.1 and y-sweet 0.9.1, both in memory), on this machine. The server is
# pinned to core 0 and the load generator to core 1; each scenario gets a fresh server process.
# Prints one JSON line per (server, scenario) on stdout; see docs/benchmarks.md.
#
#   bench/run.sh [servers...]     servers: atelier-sqlite atelier-postgres y-websocket y-sweet
#
# Needs: target/release/{atelier,atelier-client} (cargo build --release -p atelier-server
# -p atelier-client), `npm install` in bench/ (@y/websocket-server), y-sweet 0.9.1 on PATH or in
# Y_SWEET (cargo install y-sweet --version 0.9.1 --locked), PostgreSQL on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SERVER_BIN=${ATELIER_SERVER_BIN:-$ROOT/target/release/atelier}  # another build to compare: ATELIER_SERVER_BIN
GEN=$ROOT/target/release/atelier-client
Y_SWEET=${Y_SWEET:-$(command -v y-sweet || echo /opt/y-sweet/bin/y-sweet)}
PORT=${BENCH_PORT:-18080}
# Atelier's Prometheus endpoint: the server's own timings in each report (BENCH_METRICS=0: off,
# to measure what recording them costs).
METRICS_PORT=$((PORT + 1))
METRICS=${BENCH_METRICS:-1}
SCENARIOS=${SCENARIOS:-"fanout rooms rooms-clients cold cold-receive ingest join-storm join-storm-receive crowd"}
SERVERS=${*:-"atelier-sqlite atelier-postgres y-websocket y-sweet"}
PG_BASE=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
PASSWORD=bench-password-123
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

pg_ticks() { # CPU ticks used so far by every PostgreSQL process
  local sum=0 pid
  for pid in $(pgrep -x postgres || true); do
    [ -r /proc/$pid/stat ] || continue
    sum=$((sum + $(awk '{print $14 + $15}' /proc/$pid/stat 2>/dev/null || echo 0)))
  done
  echo $sum
}

wait_port() { for _ in $(seq 1 200); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && return 0; sleep 0.05; done; return 1; }

start_server() { # $1 server kind, $2 data dir / db name; sets SPID and GEN_ARGS
  local kind=$1 data=$2
  case $kind in
    atelier-sqlite|atelier-postgres)
      local dbargs=(--data-dir "$data")
      if [ "$kind" = atelier-postgres ]; then dbargs=(--database-url "$PG_BASE/$(basename "$data")"); fi
      if [ ! -e "$data.tenant" ]; then
        if [ "$kind" = atelier-postgres ]; then psql "$PG_BASE/test" -qc "CREATE DATABASE $(basename "$data")" >/dev/null; fi
        ATELIER_ADMIN_PASSWORD=$PASSWORD "$SERVER_BIN" admin "${dbargs[@]}" create-tenant --name Bench --admin-email bench@bench.test >/dev/null
        touch "$data.tenant"
      fi
      local metrics_env=() metrics_args=()
      if [ "$METRICS" != 0 ]; then
        metrics_env=(ATELIER_METRICS_LISTEN=127.0.0.1:$METRICS_PORT)
        metrics_args=(--metrics-url "http://127.0.0.1:$METRICS_PORT/metrics")
      fi
      env ATELIER_LISTEN=127.0.0.1:$PORT "${metrics_env[@]}" RUST_LOG=warn \
        taskset -c 0 "$SERVER_BIN" serve "${dbargs[@]}" >/dev/null 2>"$data.log" &
      SPID=$!
      GEN_ARGS=(--api "http://127.0.0.1:$PORT" --email bench@bench.test --url-template "ws://127.0.0.1:$PORT/ws/{board}"
        "${metrics_args[@]}")
      ;;
    y-websocket)
      HOST=127.0.0.1 PORT=$PORT taskset -c 0 node "$ROOT/bench/node_modules/@y/websocket-server/src/server.js" >/dev/null 2>&1 &
      SPID=$!
      GEN_ARGS=(--url-template "ws://127.0.0.1:$PORT/{board}" --query token=x --no-saved)
      ;;
    y-sweet)
      taskset -c 0 "$Y_SWEET" serve --host 127.0.0.1 --port $PORT >/dev/null 2>&1 &
      SPID=$!
      GEN_ARGS=(--url-template "ws://127.0.0.1:$PORT/d/{board}/ws/{board}" --no-saved)
      ;;
  esac
  wait_port
  sleep 0.5
}

stop_server() { kill -TERM "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; }

run() { # $1 server, $2 scenario, rest: generator options
  local kind=$1 scenario=$2; shift 2
  local before after out
  before=$(pg_ticks)
  local env=()
  [[ $kind == atelier-* ]] && env=(ATELIER_PASSWORD=$PASSWORD)
  # A scenario that fails prints a line saying so (the generator's error is on stderr) and the
  # run goes on with the next one.
  if ! out=$(env "${env[@]}" taskset -c 1 "$GEN" load "$scenario" "${GEN_ARGS[@]}" --server-pid "$SPID" "$@"); then
    skipped "$kind" "$scenario" "the generator failed (its error is on stderr)"
    return 0
  fi
  after=$(pg_ticks)
  echo "{\"server\":\"$kind\",\"postgres_cpu_ticks\":$((after - before)),\"result\":$out}"
}

skipped() { # $1 server, $2 scenario, $3 why
  echo "{\"server\":\"$1\",\"scenario\":\"$2\",\"skipped\":\"$3\"}"
}

n=0
for kind in $SERVERS; do
  for scenario in $SCENARIOS; do
    n=$((n + 1)); data=$TMP/bench_${n}_$$
    start_server "$kind" "$data"
    case $scenario in
      # Subscribers that only read (see client/README.md): 200 full clients applying every
      # update saturate the generator's core on a slower machine before the server's.
      fanout) run "$kind" fanout --subscribers 200 --rate 200 --secs 12 --warmup-secs 2 --receive-only ;;
      # The same with full clients (each applies every update to its own document).
      fanout-clients) run "$kind" fanout --subscribers 200 --rate 200 --secs 12 --warmup-secs 2 ;;
      rooms) run "$kind" rooms --boards 500 --clients 4 --rate 1 --steps 4 --step-secs 3 --secs 6 ;;
      # The same, every board open from the first step: later steps add connections only, so
      # the slope is what a connection costs without its share of a board.
      rooms-clients) run "$kind" rooms --boards 500 --clients 4 --rate 1 --steps 4 --step-secs 3 --secs 6 --ramp clients ;;
      ingest) run "$kind" ingest --writers 1 --secs 10 ;;
      # A public evening: 500 participants on one board, cursors at 1 Hz, one signal each.
      crowd) run "$kind" crowd --participants 500 --cursor-hz 1 --signals 1 --secs 10 --warmup-secs 3 ;;
      join-storm) run "$kind" join-storm --board-bytes 4000000 --clients 150 ;;
      # The same storm with joiners that only receive (no decoding on the generator's core).
      join-storm-receive) run "$kind" join-storm --board-bytes 4000000 --clients 150 --receive-only ;;
      cold|cold-receive)
        local_flags=()
        [ "$scenario" = cold-receive ] && local_flags=(--receive-only)
        if [ "$kind" = y-sweet ] && [ -z "${BENCH_YSWEET_COLD:-}" ]; then
          # 60,000 single-note updates take y-sweet 0.9.1 longer than the generator's 300 s (its
          # cost per update grows with the document; docs/benchmarks.md): the same notes are
          # written 1,000 to an update. BENCH_YSWEET_COLD=1 writes them one by one anyway.
          local_flags+=(--batch 1000)
        fi
        if [[ $kind == atelier-* ]]; then
          # Prepared, then the server restarts: the boards are loaded from the store.
          if ! ATELIER_PASSWORD=$PASSWORD taskset -c 1 "$GEN" load cold "${GEN_ARGS[@]}" --board-prefix "cold$n" \
            --updates 20000 --distinct --text-bytes 8 --repeat 3 --prepare-only >/dev/null; then
            skipped "$kind" "$scenario" "preparing the boards failed (the generator's error is on stderr)"
            stop_server; continue
          fi
          stop_server; start_server "$kind" "$data"
          run "$kind" cold --board-prefix "cold$n" --updates 20000 --distinct --text-bytes 8 --repeat 3 --measure-only "${local_flags[@]}"
        else
          # In memory only: prepared and measured in the same process (nothing to load).
          run "$kind" cold --updates 20000 --distinct --text-bytes 8 --repeat 3 "${local_flags[@]}"
        fi ;;
    esac
    stop_server
  done
done
