#!/usr/bin/env bash
# insns.sh: instructions keepwarm spends per request (callgrind), for passthrough /api/chat and
# translated /v1/chat/completions against the benchmark's canned nginx backend. Deterministic
# where `make bench` is noisy: use it to compare commits on the hot path.
#
#   bash tests/bench/insns.sh [BUILD_DIR]     (needs valgrind, nginx, wrk; about 30 s)
#
# Each target: keepwarm under callgrind, 3 warm-up requests, then wrk with one connection for
# 2 s; the whole run's instructions (start-up and shutdown included, about 1% at these counts)
# divided by the requests wrk completed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
kw=$build/keepwarm
for t in valgrind callgrind_annotate nginx wrk curl; do
    command -v "$t" >/dev/null 2>&1 || { echo "insns: $t is missing" >&2; exit 1; }
done
[ -x "$kw" ] || { echo "insns: build keepwarm first (make)" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
pb=$(free_port)
canned=$(tr -d '\n' <"$here/canned-chat.json")
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$pb;
    location / { default_type application/json; return 200 '$canned'; }
  }
}
EOF
nginx -c "$tmp/nginx.conf" -p "$tmp" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$pb/" && break; sleep 0.1; done

measure() { # PATH BODY
    local path=$1 body=$2 pk out
    pk=$(free_port)
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$kw" --listen "127.0.0.1:$pk" \
        --upstream "http://127.0.0.1:$pb" --log-level error >"$tmp/kw.log" 2>&1 &
    local vp=$!
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$pk/healthz" && break; sleep 0.2; done
    for _ in 1 2 3; do
        curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary "@$body" \
            "http://127.0.0.1:$pk$path"
    done
    out=$(BENCH_BODY=$body wrk -t1 -c1 -d2s -s "$here/post.lua" "http://127.0.0.1:$pk$path" 2>&1)
    kill "$vp"
    wait "$vp" 2>/dev/null
    local reqs ir
    reqs=$(echo "$out" | grep -o 'requests=[0-9]*' | cut -d= -f2)
    ir=$(callgrind_annotate "$tmp/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    printf '%-22s %6d requests  %8d instructions per request\n' "$path" "$reqs" $((ir / (reqs + 3)))
}
measure /api/chat "$here/chat-native.json"
measure /v1/chat/completions "$here/chat-openai.json"
