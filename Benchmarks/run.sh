#!/usr/bin/env bash
# `make bench`: the cwauth ACL check vs Mosquitto's dynamic-security plugin, at the broker's
# boundary (both plugins' MOSQ_EVT_ACL_CHECK callbacks called by one C harness) and inside
# AuthCore (Snapshot.brokerAllows), and end-to-end publish throughput with and without the
# cwauth plugin, and the end-to-end scenarios (floods, brute force, held lock, 10^6-rule
# rebuild, cold storm; scenarios/README.md), all measured in this one run. Prints the tables, also written to
# Benchmarks/results.md by a full run (else to Benchmarks/.out/results.md). See Benchmarks/README.md.
#
# Knobs (environment):
#   BENCH_SEED=1            policy generator seed
#   BENCH_CHECKS=10000      checks per policy (checks.tsv lines)
#   BENCH_SECONDS=2         time budget of each Swift check benchmark, of each acl_bench list
#   BENCH_ROUNDS=3          rounds: per policy, cwauth and dynsec run back to back in each
#                           round; medians and per-round ratios are reported
#   BENCH_BOUNDARY_POLICIES="b100 b10k b100k b1m"   boundary policies (10,000 users each)
#   BENCH_POLICIES="r100 r10k r100k r1m"            in-core policies (see POLICY_SPECS below)
#   BENCH_SKIP_BOUNDARY=1   skip the boundary rounds (acl_bench)
#   BENCH_SKIP_INCORE=1     skip the Swift in-core benchmarks (the slow part: ~25 s per call
#                           of `swift package benchmark`, plus its first build)
#   BENCH_TP_SECONDS=4      measured seconds of each throughput run (plus 0.5 s warm-up)
#   BENCH_TP_ROUNDS=5       throughput rounds (no-auth and cwauth, first in turns; median of the per-round ratios)
#   BENCH_SKIP_THROUGHPUT=1 skip the broker runs
#   BENCH_SKIP_SCENARIOS=1  skip the end-to-end scenarios (scenarios/README.md; about 10 min)
#   BENCH_SCENARIOS=a,b     only these scenarios (default: all)
#   BENCH_STORM_CLIENTS=5000  clients in the cold reconnect storm
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
SEED="${BENCH_SEED:-1}"
CHECKS="${BENCH_CHECKS:-10000}"
SECONDS_PER_BENCH="${BENCH_SECONDS:-2}"
ROUNDS="${BENCH_ROUNDS:-3}"
POLICIES="${BENCH_POLICIES:-r100 r10k r100k r1m}"
BOUNDARY="${BENCH_BOUNDARY_POLICIES:-b100 b10k b100k b1m}"
SKIP_INCORE="${BENCH_SKIP_INCORE:-0}"
SKIP_BOUNDARY="${BENCH_SKIP_BOUNDARY:-0}"
TP_SECONDS="${BENCH_TP_SECONDS:-4}"
TP_ROUNDS="${BENCH_TP_ROUNDS:-5}"
TP_POLICY=r100k
PYTHON="${PYTHON:-python3}"
DYNSEC_PLUGIN="${DYNSEC_PLUGIN:-/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so}"
CWAUTH="$ROOT/.build/release/cwauth"
PLUGIN="$ROOT/.build/release/libcwauth_mosquitto.so"

# name -> "roles perms-per-role users" (every user has 1-3 roles)
declare -A POLICY_SPECS=(
    [r100]="10 10 20"
    [r10k]="100 100 200"
    [r100k]="100 1000 200"
    [r1m]="10000 100 10000"
    [b100]="10 10 10000"
    [b10k]="100 100 10000"
    [b100k]="100 1000 10000"
    [b1m]="1000 1000 10000"
)
[[ "$SKIP_INCORE" == 1 ]] && POLICIES=""
[[ "$SKIP_BOUNDARY" == 1 ]] && BOUNDARY=""
ACL_BENCH="$HERE/boundary/acl_bench"

DATA="$HERE/.data/seed$SEED-checks$CHECKS"
OUT="$HERE/.out"
LOGS="$OUT/logs"
START=$(date +%s)
log() { printf '[bench %3ds] %s\n' "$(( $(date +%s) - START ))" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

rm -rf "$OUT"
mkdir -p "$DATA" "$OUT/facts" "$LOGS"

# --- the machine -------------------------------------------------------------------------
{
    echo "nproc=$(nproc)"
    echo "cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel=$(uname -r)"
    echo "swift=$(swift --version 2>/dev/null | head -1)"
    echo "mosquitto=$(mosquitto -h 2>/dev/null | head -1 || true)"
} > "$OUT/machine.txt"

# --- 1. root release build (the plugin and the CLI) -------------------------------------
if [[ ! -x "$CWAUTH" || ! -f "$PLUGIN" ]]; then
    log "root release build missing: make -C $ROOT build"
    make -C "$ROOT" build
fi

# --- 2. policies (cached by seed, size and generator version) ---------------------------
GEN="$HERE/policy/gen_policy.py"
GEN_SUM=$(sha256sum "$GEN" | cut -c1-16)
ALL_POLICIES=$(printf '%s\n' $POLICIES $BOUNDARY $([[ "${BENCH_SKIP_THROUGHPUT:-0}" != 1 ]] && echo "$TP_POLICY") | sort -u)
for name in $ALL_POLICIES; do
    spec="${POLICY_SPECS[$name]:-}"
    [[ -n "$spec" ]] || die "unknown policy $name (known: ${!POLICY_SPECS[*]})"
    read -r roles perms users <<< "$spec"
    dir="$DATA/$name"
    stamp="gen=$GEN_SUM roles=$roles perms=$perms users=$users checks=$CHECKS seed=$SEED"
    if [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$stamp" && -f "$dir/checks.tsv" ]]; then
        log "policy $name: cached ($dir)"
    else
        log "policy $name: generating $roles roles x $perms permissions, $users users"
        rm -rf "$dir"
        "$PYTHON" "$GEN" --roles "$roles" --perms-per-role "$perms" --users "$users" \
            --checks "$CHECKS" --seed "$SEED" --out "$dir" 2> "$LOGS/gen-$name.log" \
            || { cat "$LOGS/gen-$name.log" >&2; die "gen_policy $name"; }
        echo "$stamp" > "$dir/.stamp"
    fi
done

# --- 3. C tools ------------------------------------------------------------------------
log "building acl_bench and loadgen"
make -s -C "$HERE/boundary" acl_bench > "$LOGS/make-acl_bench.log" 2>&1 || { cat "$LOGS/make-acl_bench.log" >&2; die "acl_bench build"; }
make -s -C "$HERE/throughput" loadgen > "$LOGS/make-loadgen.log" 2>&1 || { cat "$LOGS/make-loadgen.log" >&2; die "loadgen build"; }

# dynsec DIR OUTPUT [acl_bench options]: Mosquitto's dynamic-security plugin on DIR/dynsec.json
# (a private copy: the plugin may rewrite its config).
dynsec() {
    local dir=$1 out=$2 name; shift 2
    name=$(basename "$dir")
    "$ACL_BENCH" --plugin "$DYNSEC_PLUGIN" --label dynsec --opt-copy "config_file=$dir/dynsec.json" \
        --seconds "$SECONDS_PER_BENCH" "$@" "$dir" > "$out" 2> "$LOGS/dynsec-$name.err" \
        || { tail -20 "$LOGS/dynsec-$name.err" >&2; die "acl_bench dynsec $name"; }
}

# --- 4. boundary: both plugins' MOSQ_EVT_ACL_CHECK callbacks, called by acl_bench ---------
# cwauth reads a database: `cwauth init` + `cwauth apply DIR/cwauth.json`, cached beside the
# policy (apply of 10^6 rules takes about 15 s) while the policy and the CLI's version stay.
cwauth_db() {  # name: makes $DATA/name/cwauth.db, writes the apply time to $OUT/facts/db_NAME.facts
    local dir="$DATA/$1" t0 t1
    local stamp
    stamp="$(cat "$dir/.stamp") cwauth=$("$CWAUTH" --version)"
    if [[ -f "$dir/cwauth.db" && -f "$dir/.db-stamp" && "$(head -1 "$dir/.db-stamp")" == "$stamp" ]]; then
        log "policy $1: cwauth.db cached ($(tail -1 "$dir/.db-stamp"))"
    else
        log "policy $1: cwauth init + apply"
        rm -f "$dir/cwauth.db" "$dir/cwauth.db-wal" "$dir/cwauth.db-shm" "$dir/.db-stamp"
        "$CWAUTH" --db "$dir/cwauth.db" init > "$LOGS/cwauth-init-$1.log" 2>&1 \
            || { cat "$LOGS/cwauth-init-$1.log" >&2; die "cwauth init $1"; }
        t0=$(date +%s%N)
        "$CWAUTH" --db "$dir/cwauth.db" apply "$dir/cwauth.json" > "$LOGS/cwauth-apply-$1.log" 2>&1 \
            || { tail -20 "$LOGS/cwauth-apply-$1.log" >&2; die "cwauth apply $1"; }
        t1=$(date +%s%N)
        printf '%s\napply_ms=%d\n' "$stamp" $(( (t1 - t0) / 1000000 )) > "$dir/.db-stamp"
    fi
    tail -1 "$dir/.db-stamp" > "$OUT/facts/db_$1.facts"
}

if [[ -n "$BOUNDARY" ]]; then
    for name in $BOUNDARY; do cwauth_db "$name"; done
    # Rounds as for the in-core checks: each round runs cwauth, then dynsec, on every policy, so a
    # ratio compares two figures taken seconds apart on this drifting VM.
    for round in $(seq 1 "$ROUNDS"); do
        log "boundary round $round/$ROUNDS: acl_bench cwauth, then dynsec, on each of $BOUNDARY"
        for name in $BOUNDARY; do
            dir="$DATA/$name"
            out="$OUT/boundary-cwauth-$name-r$round.txt"
            "$ACL_BENCH" --plugin "$PLUGIN" --label cwauth --opt "database=$dir/cwauth.db" \
                --seconds "$SECONDS_PER_BENCH" "$dir" > "$out" 2> "$LOGS/cwauth-$name.err" \
                || { tail -20 "$LOGS/cwauth-$name.err" >&2; die "acl_bench cwauth $name"; }
            cp "$LOGS/cwauth-$name.err" "$OUT/boundary-cwauth-$name-r$round.err"
            echo "$name: $(cat "$out")" >&2
            dynsec "$dir" "$OUT/boundary-dynsec-$name-r$round.txt"
            cp "$LOGS/dynsec-$name.err" "$OUT/boundary-dynsec-$name-r$round.err"
            echo "$name: $(cat "$OUT/boundary-dynsec-$name-r$round.txt")" >&2
        done
    done
fi

# --- 5. in-core: Swift benchmarks (ordo-one/benchmark) -----------------------------------
# swift_bench FILTER OUTPUT: the benchmarks whose whole names match FILTER (a regex), one process each.
swift_bench() {
    (
        cd "$HERE"
        CWAUTH_BENCH_DATA="$DATA" CWAUTH_BENCH_POLICIES="$policy_list" CWAUTH_BENCH_OUT="$OUT/facts" \
        CWAUTH_BENCH_SECONDS="$SECONDS_PER_BENCH" \
            swift package --scratch-path "$HERE/.build" --disable-sandbox benchmark \
            --filter "$1" --no-progress --format markdown --path stdout
    ) > "$2" 2>> "$LOGS/swift-bench.err" || {
        tail -40 "$LOGS/swift-bench.err" >&2; tail -20 "$2" >&2; die "swift benchmarks ($1)"; }
    grep -E '^\[(check|reference|build) ' "$2" >&2 || true
}
verified() {  # benchmark policy
    local f="$OUT/facts/${1}_$2.facts"
    [[ -f "$f" ]] && grep -q '^correct=yes$' "$f" || {
        grep -E 'MISMATCH|ACLCheck:' "$LOGS/swift-bench.err" | head -20 >&2 || true
        die "benchmark '$1 $2' did not verify its decisions (see $LOGS/swift-bench.err)"; }
}

policy_list=$(echo $POLICIES | tr ' ' ',')
if [[ -n "$POLICIES" ]]; then
    log "Swift benchmarks (build, then one process per benchmark): reference and build of $policy_list"
    swift_bench '(reference|build) .*' "$OUT/swift-bench.md"
    for name in $POLICIES; do verified reference "$name"; verified build "$name"; done

    # In-core check rounds: cwauth's hot path, then dynsec (all checks in file order, like the
    # Swift benchmark's list), on every policy. One `swift package benchmark` per round: each
    # call costs about 25 s before it measures.
    for round in $(seq 1 "$ROUNDS"); do
        log "in-core round $round/$ROUNDS: check $policy_list, then dynsec on each"
        for name in $POLICIES; do rm -f "$OUT/facts/check_$name.facts"; done
        swift_bench 'check .*' "$OUT/check-r$round.md"
        for name in $POLICIES; do verified check "$name"; done
        for name in $POLICIES; do
            dynsec "$DATA/$name" "$OUT/dynsec-$name-r$round.txt" --mixed
            echo "$name: $(cat "$OUT/dynsec-$name-r$round.txt")" >&2
        done
    done
fi

# --- 6. end-to-end throughput ------------------------------------------------------------
PIDS=()
TMP=""
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    [[ -n "$TMP" ]] && rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {  # pid port logfile
    for _ in $(seq 1 100); do
        kill -0 "$1" 2>/dev/null || { cat "$3" >&2; die "mosquitto exited"; }
        (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$3" >&2; die "mosquitto did not listen on $2"
}

if [[ "${BENCH_SKIP_THROUGHPUT:-0}" != 1 ]]; then
    [[ -d "$DATA/$TP_POLICY" ]] || die "throughput needs policy $TP_POLICY (add it to BENCH_POLICIES)"
    TMP=$(mktemp -d /tmp/cwauth-bench.XXXXXX)
    chmod 755 "$TMP"
    DB="$TMP/cwauth.db"
    log "throughput: cwauth init + apply $TP_POLICY"
    "$CWAUTH" --db "$DB" init > "$LOGS/cwauth-init.log"
    t0=$(date +%s%N)
    "$CWAUTH" --db "$DB" apply "$DATA/$TP_POLICY/cwauth.json" > "$LOGS/cwauth-apply.log"
    t1=$(date +%s%N)
    echo "apply_ms=$(( (t1 - t0) / 1000000 ))" > "$OUT/throughput.txt"
    cat "$LOGS/cwauth-apply.log" >&2
    # The subscriber: read on '#'. Same $7$ hash (password bench-pass) as the generated users.
    "$PYTHON" - "$DATA/$TP_POLICY/cwauth.json" > "$TMP/subscriber.json" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))["users"][0]["passwordHash"]
print(json.dumps({"roles": [{"name": "bench-subscriber", "permissions": [{"resource": "#", "operation": "read", "context": "mqtt"}]}],
                  "users": [{"username": "bench-sub", "passwordHash": h, "roles": ["bench-subscriber"]}]}))
EOF
    "$CWAUTH" --db "$DB" apply "$TMP/subscriber.json" >> "$LOGS/cwauth-apply.log"
    # Publishers: the first 20 users with allowed writes in checks.tsv, on those topics.
    awk -F'\t' '$4 == "write" && $5 == "allow" { print $1 "\t" $3 }' "$DATA/$TP_POLICY/checks.tsv" > "$TMP/topics.tsv"
    if [[ $(id -u) == 0 ]] && id mosquitto > /dev/null 2>&1; then
        chown -R mosquitto: "$TMP"  # the broker drops to user mosquitto before loading plugins
    fi
    # Same limits on both brokers. max_queued_messages: see throughput/README (loadgen's window
    # keeps at most 2000 messages in flight, so none is ever dropped).
    P_NOAUTH=$(free_port)
    printf 'log_dest stderr\nmax_queued_messages 10000\nlistener %s 127.0.0.1\nallow_anonymous true\n' \
        "$P_NOAUTH" > "$TMP/noauth.conf"
    mosquitto -c "$TMP/noauth.conf" > "$LOGS/mosquitto-noauth.log" 2>&1 &
    PIDS+=($!)
    wait_port "${PIDS[-1]}" "$P_NOAUTH" "$LOGS/mosquitto-noauth.log"
    P_CW=$(free_port)
    printf 'plugin %s\nplugin_opt_database %s\nlog_dest stderr\nmax_queued_messages 10000\nlistener %s 127.0.0.1\nallow_anonymous false\n' \
        "$PLUGIN" "$DB" "$P_CW" > "$TMP/cwauth.conf"
    mosquitto -c "$TMP/cwauth.conf" > "$LOGS/mosquitto-cwauth.log" 2>&1 &
    PIDS+=($!)
    wait_port "${PIDS[-1]}" "$P_CW" "$LOGS/mosquitto-cwauth.log"
    for round in $(seq 1 "$TP_ROUNDS"); do
        # Odd rounds run no-auth first, even ones cwauth first: neither always meets the machine
        # as the other has just left it.
        order="noauth cwauth"; (( round % 2 == 0 )) && order="cwauth noauth"
        for which in $order; do
            port=$P_NOAUTH; [[ $which == cwauth ]] && port=$P_CW
            line=$(timeout $((TP_SECONDS + 15)) "$HERE/throughput/loadgen" -p "$port" -t "$TMP/topics.tsv" \
                -n 20 -s 1 -d "$TP_SECONDS" -w 2000 -b 64 2>> "$LOGS/loadgen.err") \
                || { tail -5 "$LOGS/loadgen.err" >&2; tail -20 "$LOGS/mosquitto-$which.log" >&2; die "loadgen $which"; }
            log "throughput round $round $which: $line"
            echo "$which $line" >> "$OUT/throughput.txt"
        done
    done
fi

# --- 7. end-to-end scenarios through real brokers, each as a ratio in the same run ----------
if [[ "${BENCH_SKIP_SCENARIOS:-0}" != 1 ]]; then
    log "scenarios: happy path, denied flood, brute force, registry flood, held lock, 10^6-rule rebuild, cold storm"
    "$PYTHON" "$HERE/scenarios/run_scenarios.py" --cwauth "$CWAUTH" --plugin "$PLUGIN" --out "$OUT/scenarios" \
        --storm-clients "${BENCH_STORM_CLIENTS:-5000}" ${BENCH_SCENARIOS:+--only "$BENCH_SCENARIOS"} \
        > "$OUT/scenarios.md" 2> "$LOGS/scenarios.err" || { tail -30 "$LOGS/scenarios.err" >&2; die "scenarios"; }
fi

# --- 8. the table --------------------------------------------------------------------------
# Only a full run (every part, every policy) replaces the committed Benchmarks/results.md.
RESULTS="$HERE/results.md"
if [[ "$SKIP_INCORE$SKIP_BOUNDARY${BENCH_SKIP_THROUGHPUT:-0}${BENCH_SKIP_SCENARIOS:-0}" != 0000 \
      || -n "${BENCH_POLICIES:-}${BENCH_BOUNDARY_POLICIES:-}${BENCH_SCENARIOS:-}" ]]; then
    RESULTS="$OUT/results.md"
fi
"$PYTHON" "$HERE/report.py" --out "$OUT" --policies "$POLICIES" --boundary-policies "$BOUNDARY" \
    --rounds "$ROUNDS" --results "$RESULTS"
if [[ -s "$OUT/scenarios.md" ]]; then
    { echo; echo "## End-to-end scenarios (Benchmarks/scenarios/README.md)"; echo; cat "$OUT/scenarios.md"; } \
        | tee -a "$RESULTS"
fi
log "done in $(( $(date +%s) - START )) s; tables also in ${RESULTS#"$ROOT/"}"
