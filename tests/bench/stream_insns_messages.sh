#!/usr/bin/env bash
# stream_insns_messages.sh (helper-m's stream_insns.sh, renamed in the merge with helper-r's): instructions keepwarm spends per relayed stream token (callgrind), for a
# /v1/chat/completions stream and a /v1/messages stream of the same tokens from the stand-in
# Ollama. Deterministic where `make bench` is noisy: the per-token ratio of the two APIs.
#
#   bash tests/bench/stream_insns_messages.sh [BUILD_DIR]   (needs valgrind; about a minute)
#
# Each path: keepwarm under callgrind, STREAMS (3) streams of TOKENS (1000) tokens, then
# (whole run's instructions - the same run with 1-token streams) / (tokens difference), so the
# per-request and start-up costs cancel out.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
streams=${STREAMS:-3}
tokens=${TOKENS:-1000}
for t in valgrind callgrind_annotate curl cc; do
    command -v "$t" >/dev/null 2>&1 || { echo "stream_insns: $t is missing" >&2; exit 1; }
done
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mkdir -p "$build/bench"
sl=$build/bench/streamload
[ -x "$sl" ] && [ "$sl" -nt "$here/streamload.c" ] || cc -O2 -g -Wall -Wextra -o "$sl" "$here/streamload.c" || exit 1
pf=$(free_port)
"$build/fake_ollama" --listen "127.0.0.1:$pf" >"$tmp/fake.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$pf/" && break; sleep 0.1; done

script() { # N tokens
    local t
    t=$(for i in $(seq "$1"); do printf '" tok%d",' "$i"; done)
    curl -sf -o /dev/null "http://127.0.0.1:$pf/_fake/script" -d "{\"content\":[${t%,}]}"
}

run() { # PATH MODE BODY NTOKENS -> instructions of the whole run
    local pk vp
    pk=$(free_port)
    script "$4"
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$build/keepwarm" \
        --listen "127.0.0.1:$pk" --upstream "http://127.0.0.1:$pf" --log-level error \
        --ping-interval 1h >"$tmp/kw.log" 2>&1 &
    vp=$!
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$pk/healthz" && break; sleep 0.2; done
    "$sl" -p "$pk" -P "$1" -b "$3" -n "$streams" -m "$2" -t "$4" >"$tmp/sl.out" 2>&1 ||
        { cat "$tmp/sl.out" >&2; }
    grep -q "ok=$streams " "$tmp/sl.out" || { echo "stream_insns: $1: $(cat "$tmp/sl.out")" >&2; }
    kill "$vp"
    wait "$vp" 2>/dev/null
    callgrind_annotate "$tmp/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

per_token() { # PATH MODE BODY
    local big small
    big=$(run "$1" "$2" "$3" "$tokens")
    small=$(run "$1" "$2" "$3" 1)
    echo $(((big - small) / (streams * (tokens - 1))))
}
chat=$(per_token /v1/chat/completions sse "$here/stream-chat.json")
msgs=$(per_token /v1/messages messages "$here/stream-messages.json")
printf '%-22s %6d instructions per relayed token\n' /v1/chat/completions "$chat"
printf '%-22s %6d instructions per relayed token\n' /v1/messages "$msgs"
awk -v a="$msgs" -v b="$chat" 'BEGIN { printf "ratio /v1/messages : /v1/chat/completions = %.2f\n", a / b }'
