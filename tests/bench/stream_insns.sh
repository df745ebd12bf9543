#!/usr/bin/env bash
# stream_insns.sh: instructions per relayed token line (callgrind), /v1/chat/completions against
# /v1/responses (fast path, and the jansson path alone), through each endpoint's stream hook as
# relay.c calls it; prints the ratio the Responses floor is about (issue 14: within 1.3x of
# chat). Deterministic; needs valgrind and a built tree (make).
#
#   bash tests/bench/stream_insns.sh [N]      (default 20000 lines; a few seconds)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n=${1:-20000}
cd "$root"
command -v valgrind >/dev/null || { echo "stream_insns: valgrind is missing" >&2; exit 1; }
[ -d build/proxy ] || { echo "stream_insns: build first (make)" >&2; exit 1; }
pkgs="jansson inih libevent libcurl libzstd"
${CC:-cc} -O2 -D_GNU_SOURCE $(for d in proxy/*/; do printf -- '-I%s ' "${d%/}"; done) \
    $(pkg-config --cflags $pkgs) tests/bench/stream_insns.c \
    $(find build/proxy -mindepth 2 -name '*.o') $(pkg-config --libs $pkgs) -lm -o build/stream_insns
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null build/stream_insns "$1" "$n" 2>&1 |
    awk '/Collected/ {print $NF}'; }
base=$(count none)
for m in chat responses responses-jansson; do
    c=$(count "$m")
    eval "per_${m//-/_}=$(( (c - base) / n ))"
done
printf 'instructions per token line: chat %d, responses %d (fast path), responses %d (jansson only)\n' \
    "$per_chat" "$per_responses" "$per_responses_jansson"
awk -v c="$per_chat" -v r="$per_responses" -v j="$per_responses_jansson" 'BEGIN {
    printf "responses / chat: %.2fx; jansson only: %.1fx\n", r / c, j / c
    printf "  %s CPU per relayed token, /v1/responses within 1.3x of /v1/chat/completions\n",
        r <= 1.3 * c ? "ok  " : "FAIL" }'
