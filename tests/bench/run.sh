#!/usr/bin/env bash
# make bench: keepwarm against nginx and the backend directly, then concurrent SSE streams
# through keepwarm against the stand-in Ollama. Everything runs on 127.0.0.1 on free ports;
# every process started here is stopped on exit. Method: tests/bench/README.md.
#
#   sh tests/bench/run.sh [BUILD_DIR]        full run, about 10 minutes
#   BENCH_QUICK=1 sh tests/bench/run.sh      short run, about 3 minutes
#
# Knobs (environment): BENCH_ROUNDS (ABAB rounds of the request benchmark), BENCH_SECONDS
# (seconds per 32-connection run), BENCH_STREAMS ("1000 10000"), BENCH_TOKENS (tokens per
# stream), BENCH_STREAM_RATE (aggregate tokens/s the stand-in drips, 10000), BENCH_TOKEN_DELAY_MS
# (a fixed delay instead), BENCH_STREAM_ROUNDS, BENCH_NO_STREAMS=1, BENCH_NO_REQUESTS=1,
# BENCH_WAIT_QUIET (seconds to wait, before each round, for other processes to leave the CPUs).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac

quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
    rounds=${BENCH_ROUNDS:-2}
    d32=${BENCH_SECONDS:-3}
    d1=2
    stream_rounds=${BENCH_STREAM_ROUNDS:-1}
    tokens=${BENCH_TOKENS:-30}
else
    rounds=${BENCH_ROUNDS:-3}
    d32=${BENCH_SECONDS:-10}
    d1=5
    stream_rounds=${BENCH_STREAM_ROUNDS:-2}
    tokens=${BENCH_TOKENS:-50}
fi
# The stand-in drips the same aggregate token rate whatever the number of streams (10,000
# tokens/s: 1,000 streams a token every 100 ms, 10,000 streams one a second), so the rows differ
# by concurrency alone and no run saturates the two CPUs with token traffic. A fixed
# BENCH_TOKEN_DELAY_MS overrides it.
stream_rate=${BENCH_STREAM_RATE:-10000}
stream_ns=${BENCH_STREAMS:-1000 10000}
delay_for() { # N -> the token delay (ms) for N streams
    if [ -n "${BENCH_TOKEN_DELAY_MS:-}" ]; then echo "$BENCH_TOKEN_DELAY_MS"; return; fi
    local d=$(($1 * 1000 / stream_rate))
    [ "$d" -ge 10 ] || d=10
    echo "$d"
}
# Requests are spread over 40% of a stream's length, so every stream overlaps every other.
ramp_for() { echo $((tokens * $(delay_for "$1") * 2 / 5)); }

say() { printf '%s\n' "$*"; }
die() {
    printf 'bench: %s\n' "$*" >&2
    exit 1
}

# ---- what the benchmark needs beyond `make` (not part of `make test`) ----
nginx_bin=${NGINX:-$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)}
missing=""
[ -x "$nginx_bin" ] || missing="$missing nginx-light"
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v taskset >/dev/null 2>&1 || missing="$missing util-linux"
command -v cc >/dev/null 2>&1 || missing="$missing gcc"
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "bench: installing$missing"
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing \
            >/dev/null || die "could not install$missing"
        nginx_bin=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
    else
        die "missing Debian packages:$missing (as root: apt-get install$missing)"
    fi
fi
[ -x "$build/keepwarm" ] && [ -x "$build/fake_ollama" ] || die "build $build/keepwarm first (make)"
mkdir -p "$build/bench"
streamload=$build/bench/streamload
if [ ! -x "$streamload" ] || [ "$here/streamload.c" -nt "$streamload" ]; then
    cc -O2 -g -Wall -Wextra -o "$streamload" "$here/streamload.c" || die "cannot build streamload"
fi
barerelay=$build/bench/barerelay
if [ ! -x "$barerelay" ] || [ "$here/barerelay.c" -nt "$barerelay" ]; then
    cc -O2 -g -Wall -Wextra -o "$barerelay" "$here/barerelay.c" || die "cannot build barerelay"
fi

# ---- processes: every one started here is recorded and stopped on exit ----
tmp=$(mktemp -d "${TMPDIR:-/tmp}/keepwarm-bench.XXXXXX")
# Snapshots of the binaries: a rebuild during the run must not change what is measured.
cp "$build/keepwarm" "$tmp/keepwarm" && cp "$build/fake_ollama" "$tmp/fake_ollama" ||
    die "cannot copy the binaries from $build"
kw_bin=$tmp/keepwarm
fake_bin=$tmp/fake_ollama
pids=()
fg_pid=""
cleanup() {
    trap - EXIT INT TERM
    [ -n "$fg_pid" ] && kill "$fg_pid" 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'say "bench: interrupted" >&2; exit 130' INT TERM

start_bg() { # LOG CMD... ; sets $last_pid
    local log=$1
    shift
    "$@" >>"$log" 2>&1 &
    last_pid=$!
    pids+=("$last_pid")
}
stop_bg() {
    local p=$1 keep=()
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    for q in "${pids[@]}"; do [ "$q" != "$p" ] && keep+=("$q"); done
    pids=("${keep[@]}")
}
run_fg() { # a foreground command the traps can stop
    "$@" &
    fg_pid=$!
    wait "$fg_pid"
    local rc=$?
    fg_pid=""
    return $rc
}

used_ports=" "
free_port() {
    local p i
    for i in $(seq 500); do
        p=$((20000 + RANDOM % 12000))
        case $used_ports in *" $p "*) continue ;; esac
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            used_ports="$used_ports$p "
            echo "$p"
            return 0
        fi
    done
    die "no free port"
}
wait_port() {
    local i
    for i in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
child_of() { awk -v P="$1" '$4 == P { print $1 }' /proc/[0-9]*/stat 2>/dev/null | head -1; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Busy clock ticks of the whole machine, and of this script's finished children (wrk): what is
# left of the machine's busy time after ours is what other processes used during a run.
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
children_ticks() { # sets $ch_ticks; `times` must run in this shell, not in a $(...) subshell
    times >"$tmp/times.out"
    ch_ticks=$(awk -v hz="$hz" 'NR == 2 {
        split($1, u, "m"); split($2, s, "m"); sub("s", "", u[2]); sub("s", "", s[2])
        printf "%d\n", ((u[1] * 60 + u[2]) + (s[1] * 60 + s[2])) * hz + 0.5 }' "$tmp/times.out")
}
status_kb() { awk -v K="$2:" '$1 == K { print $2 }' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

ncpu=$(nproc)
pin=0
[ "$ncpu" -ge 2 ] && pin=1
pin_to() { # CPU PID...
    local c=$1
    shift
    [ "$pin" = 1 ] || return 0
    for p in "$@"; do taskset -a -p -c "$c" "$p" >/dev/null 2>&1; done
}
on_cpu() { # CPU CMD...
    local c=$1
    shift
    if [ "$pin" = 1 ]; then taskset -c "$c" "$@"; else "$@"; fi
}

# Descriptors: keepwarm needs two per stream (client and upstream connection).
ulimit -n "$(ulimit -Hn)" 2>/dev/null
ulimit -Hn 1048576 2>/dev/null && ulimit -n 1048576 2>/dev/null
nofile=$(ulimit -n)

# ---- the machine ----
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
kw_version=$("$kw_bin" --version 2>&1 | head -1)
rev=${BENCH_REV:-$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)}
nginx_version=$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')
wrk_version=$(wrk -v 2>&1 | head -1 | awk '{ print $2 }')
# The numbers are only worth something on a quiet machine: say how busy it was before we start.
busy_pct() {
    local a b
    a=($(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat))
    sleep 1
    b=($(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat))
    echo $(((b[0] - a[0]) * 100 / (b[0] - a[0] + b[1] - a[1] + 1)))
}
busy=$(busy_pct)
# Before each round: how busy were the CPUs (other processes)? With BENCH_WAIT_QUIET=SECONDS,
# wait up to that long for them to go quiet first. Busy rounds are flagged in the report.
quiet_gate() { # LABEL
    local b waited=0 deadline=$((SECONDS + ${BENCH_WAIT_QUIET:-0}))
    b=$(busy_pct)
    while [ "$b" -gt 5 ] && [ "$SECONDS" -lt "$deadline" ]; do
        waited=1
        b=$(busy_pct)
    done
    printf 'note\t%s\t%s\n' "$1" "$b" >>"$results"
    if [ "$b" -gt 5 ]; then
        say "  $1: the CPUs were $b% busy before it (other processes): its numbers are suspect"
    elif [ "$waited" = 1 ]; then
        say "  $1: waited for the CPUs to go quiet"
    fi
}
summary=$build/bench/summary.txt
results=$build/bench/results.tsv
: >"$results"
{
    say "keepwarm benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)$([ "$quick" = 1 ] && echo ' (BENCH_QUICK=1)')"
    say "machine: $ncpu CPUs, $cpu_model, Linux $(uname -r), open files limit $nofile"
    say "software: $kw_version (tree $rev); nginx $nginx_version; wrk $wrk_version"
    say "pinning: $([ "$pin" = 1 ] && echo 'taskset (see tests/bench/README.md)' || echo 'none (one CPU)')"
    say "CPU busy before the run: ${busy}%$([ "$busy" -gt 5 ] && echo ' -- NOT QUIET: other processes are running; numbers will be low')"
} | tee "$summary"

# ============================================================================================
# Part 1: requests. Canned backend (nginx), nginx proxy_pass, keepwarm passthrough, keepwarm
# translation; ABAB rounds, medians of the rounds.
# ============================================================================================
nginx_start() { # DIR PORT SERVER_BLOCK_BODY [HTTP_EXTRA] ; sets $last_pid (master)
    local dir=$1 port=$2 body=$3 extra=${4:-}
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 16384; multi_accept on; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    $extra
    server {
        listen 127.0.0.1:$port;
        $body
    }
}
EOF
    start_bg "$dir/stderr.log" "$nginx_bin" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log"
    wait_port "$port" || die "nginx did not start: $(cat "$dir/error.log" "$dir/stderr.log" 2>/dev/null)"
}

measure() { # ROUND TARGET CONNS SECONDS URL BODY SERVER_PID BACKEND_PID CPU
    local round=$1 target=$2 conns=$3 secs=$4 url=$5 body=$6 spid=$7 bpid=$8 wcpu=$9
    local s0 b0 s1 b1 t0 t1 out m0 m1 c0 c1
    s0=$(cpu_ticks "$spid")
    b0=$(cpu_ticks "$bpid")
    m0=$(machine_busy)
    children_ticks
    c0=$ch_ticks
    t0=$(date +%s%N)
    export BENCH_BODY=$body
    run_fg timeout $((secs + 20)) $(on_cpu_prefix "$wcpu") wrk -t1 -c"$conns" -d"${secs}s" \
        -s "$here/post.lua" "$url" >"$tmp/wrk.out" 2>&1
    t1=$(date +%s%N)
    out=$(grep '^RESULT' "$tmp/wrk.out")
    s1=$(cpu_ticks "$spid")
    b1=$(cpu_ticks "$bpid")
    children_ticks
    c1=$ch_ticks
    m1=$(machine_busy)
    [ -n "$out" ] || die "wrk gave no result for $target ($url)"
    : >"$tmp/keepwarm.log" # keepwarm logs a line per request; keep the file small
    echo "$out" | awk -v r="$round" -v t="$target" -v c="$conns" -v hz="$hz" \
        -v ds=$((s1 - s0)) -v db=$((b1 - b0)) -v wall=$(((t1 - t0) / 1000000)) \
        -v other=$((m1 - m0 - (s1 - s0) - (spid == bpid ? 0 : b1 - b0) - (c1 - c0))) '{
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        rps = v["requests"] / (v["duration_us"] / 1e6)
        printf "req\t%s\t%s\t%s\t%.1f\t%d\t%d\t%d\t%d\t%d\t%.4f\t%.4f\t%.3f\t%.4f\n", r, t, c, rps,
            v["p50_us"], v["p90_us"], v["p99_us"], v["errors"], v["requests"],
            ds / hz, db / hz, wall / 1000, other / hz
    }' >>"$results"
}
on_cpu_prefix() { [ "$pin" = 1 ] && echo "taskset -c $1"; }

if [ "${BENCH_NO_REQUESTS:-0}" != 1 ]; then
    pb=$(free_port)
    pn=$(free_port)
    pk=$(free_port)
    canned=$(tr -d '\n' <"$here/canned-chat.json")
    case $canned in *"'"*) die "canned-chat.json must not contain a single quote" ;; esac
    nginx_start "$tmp/backend" "$pb" "location / { default_type application/json; return 200 '$canned'; }"
    backend_master=$last_pid
    nginx_start "$tmp/proxy" "$pn" \
        "location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; }" \
        "upstream backend { server 127.0.0.1:$pb; keepalive 64; keepalive_requests 1000000; }"
    proxy_master=$last_pid
    start_bg "$tmp/keepwarm.log" "$kw_bin" --listen "127.0.0.1:$pk" \
        --upstream "http://127.0.0.1:$pb"
    kw_pid=$last_pid
    wait_port "$pk" || die "keepwarm did not start: $(cat "$tmp/keepwarm.log")"
    backend_worker=$(child_of "$backend_master")
    proxy_worker=$(child_of "$proxy_master")
    [ -n "$backend_worker" ] && [ -n "$proxy_worker" ] || die "cannot find the nginx workers"

    declare -A url body spid
    url[direct]=http://127.0.0.1:$pb/api/chat
    url[nginx]=http://127.0.0.1:$pn/api/chat
    url[passthrough]=http://127.0.0.1:$pk/api/chat
    url[translation]=http://127.0.0.1:$pk/v1/chat/completions
    body[direct]=$here/chat-native.json
    body[nginx]=$here/chat-native.json
    body[passthrough]=$here/chat-native.json
    body[translation]=$here/chat-openai.json
    spid[direct]=$backend_worker
    spid[nginx]=$proxy_worker
    spid[passthrough]=$kw_pid
    spid[translation]=$kw_pid
    targets=(direct nginx passthrough translation)

    # Every target answers 200 with the right shape before anything is measured.
    for t in "${targets[@]}"; do
        code=$(curl -s -o "$tmp/check.json" -w '%{http_code}' -H 'Content-Type: application/json' \
            --data-binary "@${body[$t]}" "${url[$t]}")
        [ "$code" = 200 ] || die "$t answered $code: $(head -c 300 "$tmp/check.json")"
        want='"done":true'
        [ "$t" = translation ] && want='"chat.completion"'
        grep -q "$want" "$tmp/check.json" || die "$t answered: $(head -c 300 "$tmp/check.json")"
    done

    say ""
    say "== requests: $rounds ABAB rounds; ${d32}s at 32 connections, ${d1}s at 1 connection per target"
    # Warm-up (not measured): caches, connection pools, allocator.
    for t in "${targets[@]}"; do
        export BENCH_BODY=${body[$t]}
        run_fg timeout 20 wrk -t1 -c32 -d1s -s "$here/post.lua" "${url[$t]}" >/dev/null
    done
    for r in $(seq "$rounds"); do
        quiet_gate "requests round $r"
        order=("${targets[@]}")
        if [ $((r % 2)) = 0 ]; then order=(translation passthrough nginx direct); fi
        for t in "${order[@]}"; do
            # Throughput: the server under test alone on CPU 0; wrk and the backend on CPU 1.
            if [ "$t" = direct ]; then
                pin_to 0 "$backend_master" "$backend_worker"
            else
                pin_to 1 "$backend_master" "$backend_worker"
                pin_to 0 "${spid[$t]}"
            fi
            measure "$r" "$t" 32 "$d32" "${url[$t]}" "${body[$t]}" "${spid[$t]}" "$backend_worker" 1
            # Latency, one connection: everything on CPU 1 (no cross-CPU wake-ups; see README).
            pin_to 1 "$backend_master" "$backend_worker" "${spid[$t]}"
            measure "$r" "$t" 1 "$d1" "${url[$t]}" "${body[$t]}" "${spid[$t]}" "$backend_worker" 1
            printf '  round %d %-12s done\n' "$r" "$t"
        done
    done
    stop_bg "$kw_pid"
    stop_bg "$proxy_master"
    stop_bg "$backend_master"
fi

# ============================================================================================
# Part 2: streams. N concurrent streams against the stand-in Ollama: directly (native NDJSON)
# and through keepwarm (/v1/chat/completions, SSE). A fresh stand-in and keepwarm per N.
# ============================================================================================
if [ "${BENCH_NO_STREAMS:-0}" != 1 ]; then
    script_tokens=$(for i in $(seq "$tokens"); do printf '" tok%d",' "$i"; done)
    script="{\"content\":[${script_tokens%,}]}"
    say ""
    for n in $stream_ns; do
        say "== streams: $n streams of $tokens tokens, $(delay_for "$n") ms apart" \
            "($stream_rate tokens/s in all); requests spread over $(ramp_for "$n") ms"
    done
    for n in $stream_ns; do
        need=$((2 * n + 32))
        if [ "$nofile" -lt "$need" ]; then
            say "  note: keepwarm needs about $need descriptors for $n streams; the limit here is" \
                "$nofile (hard), so about $((n - (nofile - 32) / 2)) of them wait for another stream's" \
                "descriptor before reaching Ollama (their time to first token is that wait)"
        fi
    done
    stream_once() { # ROUND N KIND(direct|keepwarm) PORT PATH MODE BODY PID
        local r=$1 n=$2 kind=$3 port=$4 path=$5 mode=$6 bodyf=$7 spid=$8
        local c0 f0 c1 f1 out hwm token_delay ramp_ms
        token_delay=$(delay_for "$n")
        ramp_ms=$(ramp_for "$n")
        c0=$(cpu_ticks "$spid")
        f0=$(cpu_ticks "$fake_pid")
        run_fg timeout $((tokens * token_delay / 1000 + ramp_ms / 1000 + 120)) \
            "$streamload" -p "$port" -P "$path" -b "$bodyf" -n "$n" -m "$mode" -t "$tokens" \
            -r "$ramp_ms" -T $((tokens * token_delay / 1000 + ramp_ms / 1000 + 90)) \
            >"$tmp/streamload.out" 2>"$tmp/streamload.err"
        out=$(cat "$tmp/streamload.out")
        c1=$(cpu_ticks "$spid")
        f1=$(cpu_ticks "$fake_pid")
        hwm=$(status_kb "$spid" VmHWM)
        sed 's/^/    /' "$tmp/streamload.err"
        [ -n "$out" ] || die "streamload gave no result ($kind, $n)"
        echo "$out" | awk -v r="$r" -v n="$n" -v k="$kind" -v hz="$hz" -v dc=$((c1 - c0)) \
            -v df=$((f1 - f0)) -v hwm="$hwm" -v idle="$idle_kb" -v idle_anon="$idle_anon_kb" '{
            for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            printf "stream\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.4f\t%.4f\t%d\t%d\t%d\t%.3f\n",
                r, n, k, v["ok"], v["errors"], v["tokens"], v["ttft_p50_us"], v["ttft_p99_us"],
                v["peak_active"], dc / hz, df / hz, hwm, idle, idle_anon, v["run_s"]
        }' >>"$results"
        printf '  round %d %6d streams %-9s %s\n' "$r" "$n" "$kind" "$out"
    }
    for r in $(seq "$stream_rounds"); do
        for n in $stream_ns; do
            quiet_gate "streams round $r, $n streams"
            pf=$(free_port)
            pk=$(free_port)
            start_bg "$tmp/fake.log" "$fake_bin" --listen "127.0.0.1:$pf" \
                --token-delay "$(delay_for "$n")"
            fake_pid=$last_pid
            wait_port "$pf" || die "the stand-in did not start: $(cat "$tmp/fake.log")"
            curl -sf -o /dev/null "http://127.0.0.1:$pf/_fake/script" -d "$script" ||
                die "cannot script the stand-in"
            start_bg "$tmp/keepwarm-s.log" "$kw_bin" --listen "127.0.0.1:$pk" \
                --upstream "http://127.0.0.1:$pf"
            kws_pid=$last_pid
            wait_port "$pk" || die "keepwarm did not start: $(cat "$tmp/keepwarm-s.log")"
            sleep 1 # idle: after start and the warm loop's first round
            idle_kb=$(status_kb "$kws_pid" VmRSS)
            idle_anon_kb=$(status_kb "$kws_pid" RssAnon)
            # The relays for comparison (keepwarm's own /api/chat, nginx, the bare relay) need two
            # descriptors a stream and do not wait for one as keepwarm does: only where they fit.
            kinds="direct keepwarm messages responses"
            [ "$nofile" -ge $((2 * n + 64)) ] && kinds="$kinds native nginx bare"
            [ $((r % 2)) = 1 ] || kinds=$(echo "$kinds" | tr ' ' '\n' | tac | tr '\n' ' ')
            for k in $kinds; do
                case $k in
                direct)
                    stream_once "$r" "$n" direct "$pf" /api/chat ndjson "$here/stream-chat.json" "$fake_pid"
                    ;;
                keepwarm)
                    stream_once "$r" "$n" keepwarm "$pk" /v1/chat/completions sse \
                        "$here/stream-chat.json" "$kws_pid"
                    ;;
                messages)
                    stream_once "$r" "$n" messages "$pk" /v1/messages messages \
                        "$here/stream-messages.json" "$kws_pid"
                    ;;
                responses)
                    stream_once "$r" "$n" responses "$pk" /v1/responses responses \
                        "$here/stream-responses.json" "$kws_pid"
                    ;;
                native)
                    stream_once "$r" "$n" native "$pk" /api/chat ndjson "$here/stream-chat.json" "$kws_pid"
                    ;;
                nginx)
                    pr=$(free_port)
                    nginx_start "$tmp/nginx-s" "$pr" "location / { proxy_pass http://ollama;
                        proxy_http_version 1.1; proxy_set_header Connection \"\";
                        proxy_set_header Host 127.0.0.1:$pf; proxy_buffering off; }" \
                        "upstream ollama { server 127.0.0.1:$pf; keepalive 256; }"
                    nginx_s_master=$last_pid
                    stream_once "$r" "$n" nginx "$pr" /api/chat ndjson "$here/stream-chat.json" \
                        "$(child_of "$nginx_s_master")"
                    stop_bg "$nginx_s_master"
                    ;;
                bare)
                    pr=$(free_port)
                    start_bg "$tmp/bare.log" "$barerelay" "$pr" "$pf"
                    bare_pid=$last_pid
                    wait_port "$pr" || die "barerelay did not start: $(cat "$tmp/bare.log")"
                    stream_once "$r" "$n" bare "$pr" /api/chat ndjson "$here/stream-chat.json" "$bare_pid"
                    stop_bg "$bare_pid"
                    ;;
                esac
            done
            stop_bg "$kws_pid"
            stop_bg "$fake_pid"
            : >"$tmp/keepwarm-s.log"
        done
    done
fi

# ============================================================================================
# Report: medians over rounds; ratios and differences are taken within a round, then medianed.
# ============================================================================================
awk -F'\t' -v nofile="$nofile" '
function median(key,    n, i, j, t, a) {
    n = cnt[key]
    if (!n) return "nan"
    for (i = 1; i <= n; i++) a[i] = val[key, i]
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) { val[key, ++cnt[key]] = v }
NR == FNR {
    if ($1 == "req") { all_r[$2] = 1; if ($14 / $13 > 0.3) dist[$2] = 1 }
    next
}
FNR == 1 { for (r in all_r) if (!(r in dist)) nclean++ }
$1 == "req" && ($2 in dist) && nclean > 0 { skipped[$2] = 1; next }
$1 == "note" { if ($3 > 5) { busy_rounds = busy_rounds (busy_rounds ? "; " : "") $2 " (" $3 "%)" } next }
$1 == "req" {
    r = $2; t = $3; c = $4
    rps[r, t, c] = $5; p50[r, t, c] = $6; p99[r, t, c] = $8
    add(t SUBSEP c SUBSEP "rps", $5); add(t SUBSEP c SUBSEP "p50", $6)
    add(t SUBSEP c SUBSEP "p99", $8)
    errs[t] += $9
    if (c == 32) {
        add(t SUBSEP "cpu10k", $11 / $10 * 10000); add(t SUBSEP "util", $11 / $13)
        add(t SUBSEP "bcpu10k", $12 / $10 * 10000)
    }
    if ($14 / $13 > 0.3) { key = "requests round " r; if (!(key in flagged)) { flagged[key] = 1; busy_rounds = busy_rounds (busy_rounds ? "; " : "") key " (other processes used " int(100 * $14 / $13) "% of a CPU during " t ", c" c ")" } }
    rounds[r] = 1; seen_req = 1
}
$1 == "stream" {
    r = $2; n = $3; k = $4
    sok[n, k] += $5; serr[n, k] += $6; stok[n, k] += $7
    add(n SUBSEP k SUBSEP "p50", $8); add(n SUBSEP k SUBSEP "p99", $9)
    add(n SUBSEP k SUBSEP "peak", $10)
    sp50[r, n, k] = $8; sp99[r, n, k] = $9
    scpu[r, n, k] = $11 / ($7 > 0 ? $7 : 1) * 1e6
    if (k == "keepwarm") {
        add(n SUBSEP "cpuM", $11 / ($7 > 0 ? $7 : 1) * 1e6); add(n SUBSEP "hwm", $13)
        add(n SUBSEP "perstream", ($13 - $14) / n); add("idle", $14); add("idle_anon", $15)
        add(n SUBSEP "fakecpuM", $12 / ($7 > 0 ? $7 : 1) * 1e6)
    } else if (k == "direct") {
        add(n SUBSEP "directfakecpuM", $11 / ($7 > 0 ? $7 : 1) * 1e6)
    } else {
        add(n SUBSEP k SUBSEP "cpuM", $11 / ($7 > 0 ? $7 : 1) * 1e6); relays[n, k] = 1
    }
    add(n SUBSEP k SUBSEP "run", $16)
    srounds[r] = 1; ns[n] = 1; seen_stream = 1
}
END {
    if (seen_req) {
        split("direct nginx passthrough translation", T, " ")
        for (r in rounds) {
            for (i = 1; i <= 4; i++) {
                t = T[i]
                if ((r, "nginx", 32) in rps) add(t SUBSEP "ratio", rps[r, t, 32] / rps[r, "nginx", 32])
                if ((r, "direct", 1) in p50) {
                    add(t SUBSEP "add50", p50[r, t, 1] - p50[r, "direct", 1])
                    add(t SUBSEP "add99", p99[r, t, 1] - p99[r, "direct", 1])
                }
            }
        }
        print ""
        print "Requests (medians of rounds; 32 connections unless marked c1; latencies in microseconds)"
        printf "%-12s %9s %7s %7s %7s %7s %7s %8s %8s %10s %6s %10s %6s\n", "target", "req/s", "x nginx",
            "p50", "p99", "c1 p50", "c1 p99", "+p50 c1", "+p99 c1", "CPU s/10k", "util", "backend", "errors"
        for (i = 1; i <= 4; i++) {
            t = T[i]
            printf "%-12s %9.0f %7.2f %7d %7d %7d %7d %8s %8s %10.3f %5.0f%% %10.3f %6d\n", t,
                median(t SUBSEP 32 SUBSEP "rps"), median(t SUBSEP "ratio"),
                median(t SUBSEP 32 SUBSEP "p50"), median(t SUBSEP 32 SUBSEP "p99"),
                median(t SUBSEP 1 SUBSEP "p50"), median(t SUBSEP 1 SUBSEP "p99"),
                t == "direct" ? "-" : sprintf("%d", median(t SUBSEP "add50")),
                t == "direct" ? "-" : sprintf("%d", median(t SUBSEP "add99")),
                median(t SUBSEP "cpu10k"), 100 * median(t SUBSEP "util"),
                t == "direct" ? 0 : median(t SUBSEP "bcpu10k"), errs[t]
        }
        print "CPU s/10k: CPU seconds of the server under test (the backend for direct) per 10,000"
        print "requests; util: its CPU use during the run; backend: the canned backend per 10,000."
        f_x = median("translation" SUBSEP "ratio"); f_p = median("passthrough" SUBSEP "ratio")
        f_50 = median("translation" SUBSEP "add50"); f_99 = median("translation" SUBSEP "add99")
        fp_50 = median("passthrough" SUBSEP "add50"); fp_99 = median("passthrough" SUBSEP "add99")
    }
    if (seen_stream) {
        print ""
        print "Streams (medians of rounds; TTFT from request written to first token read, milliseconds)"
        printf "%-7s %-9s %7s %6s %9s %8s %8s %8s %8s %8s %9s %10s %7s\n", "streams", "via", "ok", "errors",
            "tokens", "TTFT p50", "TTFT p99", "+p50", "+p99", "peak RSS", "RSS/strm", "CPU s/Mtok", "run s"
        for (n in ns) nlist[++nn] = n + 0
        for (i = 2; i <= nn; i++) { x = nlist[i]; for (j = i - 1; j >= 1 && nlist[j] > x; j--) nlist[j + 1] = nlist[j]; nlist[j + 1] = x }
        for (i = 1; i <= nn; i++) {
            n = nlist[i]
            for (r in srounds) if ((r, n, "keepwarm") in sp50 && (r, n, "direct") in sp50) {
                add(n SUBSEP "add50", sp50[r, n, "keepwarm"] - sp50[r, n, "direct"])
                add(n SUBSEP "add99", sp99[r, n, "keepwarm"] - sp99[r, n, "direct"])
            }
            for (r in srounds) if ((r, n, "bare") in scpu && scpu[r, n, "bare"] > 0) {
                add(n SUBSEP "xbare", scpu[r, n, "keepwarm"] / scpu[r, n, "bare"])
                if ((r, n, "nginx") in scpu) add(n SUBSEP "nginx_xbare", scpu[r, n, "nginx"] / scpu[r, n, "bare"])
                if ((r, n, "native") in scpu) add(n SUBSEP "native_xbare", scpu[r, n, "native"] / scpu[r, n, "bare"])
            }
            for (r in srounds) if ((r, n, "messages") in scpu && scpu[r, n, "keepwarm"] > 0)
                add(n SUBSEP "msg_xchat", scpu[r, n, "messages"] / scpu[r, n, "keepwarm"])
            for (r in srounds) if ((r, n, "responses") in scpu && scpu[r, n, "keepwarm"] > 0)
                add(n SUBSEP "resp_xchat", scpu[r, n, "responses"] / scpu[r, n, "keepwarm"])
            printf "%-7d %-9s %7d %6d %9d %8.1f %8.1f %8s %8s %8s %9s %10.2f %7.1f\n", n, "direct",
                sok[n, "direct"], serr[n, "direct"], stok[n, "direct"],
                median(n SUBSEP "direct" SUBSEP "p50") / 1000, median(n SUBSEP "direct" SUBSEP "p99") / 1000,
                "-", "-", "-", "-", median(n SUBSEP "directfakecpuM"), median(n SUBSEP "direct" SUBSEP "run")
            split("bare nginx native messages responses", R, " ")
            for (j = 1; j <= 5; j++) if ((n, R[j]) in relays) {
                k = R[j]
                printf "%-7d %-9s %7d %6d %9d %8.1f %8.1f %8s %8s %8s %9s %10.2f %7.1f\n", n, k,
                    sok[n, k], serr[n, k], stok[n, k],
                    median(n SUBSEP k SUBSEP "p50") / 1000, median(n SUBSEP k SUBSEP "p99") / 1000,
                    "-", "-", "-", "-", median(n SUBSEP k SUBSEP "cpuM"), median(n SUBSEP k SUBSEP "run")
            }
            printf "%-7d %-9s %7d %6d %9d %8.1f %8.1f %8.2f %8.2f %6.1fMB %7.1fKB %10.2f %7.1f\n", n, "keepwarm",
                sok[n, "keepwarm"], serr[n, "keepwarm"], stok[n, "keepwarm"],
                median(n SUBSEP "keepwarm" SUBSEP "p50") / 1000, median(n SUBSEP "keepwarm" SUBSEP "p99") / 1000,
                median(n SUBSEP "add50") / 1000, median(n SUBSEP "add99") / 1000,
                median(n SUBSEP "hwm") / 1024, median(n SUBSEP "perstream"),
                median(n SUBSEP "cpuM"), median(n SUBSEP "keepwarm" SUBSEP "run")
            last_n = n
        }
        print "direct: the same streams straight to the stand-in (native /api/chat, NDJSON); its"
        print "CPU s/Mtok is the stand-in CPU. keepwarm: /v1/chat/completions (SSE); CPU s/Mtok is"
        print "keepwarm CPU seconds per million relayed tokens; peak RSS is VmHWM of a fresh keepwarm;"
        print "RSS/strm = (peak - idle) / streams. Relays for comparison, native /api/chat NDJSON"
        print "through each (CPU s/Mtok of the relay): bare = tests/bench/barerelay.c, one recv and one"
        print "send per token and nothing else (the floor any relay pays on this machine); nginx ="
        print "proxy_pass with proxy_buffering off, 1 worker; native = keepwarm /api/chat."
        for (i = 1; i <= nn; i++) if (cnt[nlist[i] SUBSEP "xbare"]) {
            n = nlist[i]
            printf "CPU per token against the bare relay, %d streams: keepwarm (SSE) %.2fx, keepwarm native %.2fx, nginx %.2fx\n",
                n, median(n SUBSEP "xbare"), median(n SUBSEP "native_xbare"), median(n SUBSEP "nginx_xbare")
        }
        print "messages = keepwarm /v1/messages (Anthropic SSE), responses = keepwarm /v1/responses"
        print "(named SSE events), the same tokens."
        for (i = 1; i <= nn; i++) if (cnt[nlist[i] SUBSEP "msg_xchat"])
            printf "CPU per token, /v1/messages against /v1/chat/completions, %d streams: %.2fx %s\n",
                nlist[i], median(nlist[i] SUBSEP "msg_xchat"),
                median(nlist[i] SUBSEP "msg_xchat") <= 1.3 ? "ok (floor 1.3x)" : "FAIL (floor 1.3x)"
        for (i = 1; i <= nn; i++) if (cnt[nlist[i] SUBSEP "resp_xchat"])
            printf "CPU per token, /v1/responses against /v1/chat/completions, %d streams: %.2fx %s\n",
                nlist[i], median(nlist[i] SUBSEP "resp_xchat"),
                median(nlist[i] SUBSEP "resp_xchat") <= 1.3 ? "ok (floor 1.3x)" : "FAIL (floor 1.3x)"
        printf "keepwarm idle RSS after start: %.1f MB (anonymous %.1f MB)\n", median("idle") / 1024,
            median("idle_anon") / 1024
    }
    for (r in skipped) skipped_list = skipped_list (skipped_list ? ", " : "") r
    if (skipped_list) {
        print ""
        print "Left out of the request medians: round(s) " skipped_list ", during which other processes"
        print "used more than 30% of a CPU (measured from /proc/stat against our own processes)."
    }
    if (busy_rounds) {
        print ""
        print "WARNING: other processes were using the CPUs before: " busy_rounds
        print "those numbers are low; rerun on a quiet machine (BENCH_WAIT_QUIET=600 waits for one)"
    }
    print ""
    print "Floors (issue 6)"
    if (seen_req) {
        printf "  %-4s translation >= 0.4x nginx req/s: %.2fx\n", (f_x >= 0.4 ? "ok" : "FAIL"), f_x
        printf "  %-4s passthrough >= 0.5x nginx req/s: %.2fx\n", (f_p >= 0.5 ? "ok" : "FAIL"), f_p
        printf "  %-4s added latency p50 <= 100 us: translation %d us, passthrough %d us\n",
            ((f_50 <= 100 && fp_50 <= 100) ? "ok" : "FAIL"), f_50, fp_50
        printf "  %-4s added latency p99 <= 300 us: translation %d us, passthrough %d us\n",
            ((f_99 <= 300 && fp_99 <= 300) ? "ok" : "FAIL"), f_99, fp_99
    }
    if (seen_stream) {
        cpum = 0
        for (i = 1; i <= nn; i++) { v = median(nlist[i] SUBSEP "cpuM"); if (v > cpum) cpum = v }
        printf "  %-4s CPU per million relayed tokens <= 15 s: %.2f s (worst N)\n", (cpum <= 15 ? "ok" : "FAIL"), cpum
        for (i = 1; i <= nn; i++) if (cnt[nlist[i] SUBSEP "bare" SUBSEP "cpuM"])
            printf "       (%d streams: the bare relay pays %.2f s, nginx %.2f s on this machine)\n", nlist[i],
                median(nlist[i] SUBSEP "bare" SUBSEP "cpuM"), median(nlist[i] SUBSEP "nginx" SUBSEP "cpuM")
        big = nlist[nn]
        e = serr[big, "keepwarm"]; h = median(big SUBSEP "hwm") / 1024; a = median(big SUBSEP "add50") / 1000
        printf "  %-4s %d streams, zero errors: %d errors\n", (e == 0 ? "ok" : "FAIL"), big, e
        printf "  %-4s %d streams, peak RSS <= 150 MB: %.1f MB\n", (h <= 150 ? "ok" : "FAIL"), big, h
        printf "  %-4s %d streams, TTFT added <= 1 ms at p50: %.2f ms\n", (a <= 1 ? "ok" : "FAIL"), big, a
        i = median("idle") / 1024
        printf "  %-4s idle RSS <= 12 MB (libcurl linked, issue 15): %.1f MB\n", (i <= 12 ? "ok" : "FAIL"), i
    }
}' "$results" "$results" | tee -a "$summary"
say ""
say "raw results: $results; this summary: $summary"
