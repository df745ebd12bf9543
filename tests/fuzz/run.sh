#!/bin/sh
# `make fuzz`: builds every libFuzzer target (tests/fuzz/fuzz_*.c) with clang and
# -fsanitize=fuzzer,address,undefined, and runs each for FUZZ_SECONDS (default 60) on a
# scratch copy of its corpus (build/libfuzzer/corpus/<target>, seeded from
# tests/fuzz/corpus/<target>). Crashes go to build/libfuzzer/crashes/<target>/, logs to
# build/libfuzzer/logs/<target>.log. Exits 1 if any target crashed.
#
#   FUZZ_SECONDS=300           time per target
#   FUZZ_TARGETS="ndjson policy"  only these targets (names without fuzz_)
#   FUZZ_JOBS=2                targets run at once
#   FUZZ_MAX_LEN=8192          longest input libFuzzer generates
#   FUZZ_MERGE=1               afterwards add the inputs that found new coverage to
#                              tests/fuzz/corpus/<target> (libFuzzer -merge=1)
#   FUZZ_OPTS="-only_ascii=1"  more libFuzzer flags; FUZZ_CFLAGS: more compiler flags
#   FUZZ_IGNORE=tag,...        invariants to step over (tests/fuzz/fuzz.h)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/build/libfuzzer
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
max_len=${FUZZ_MAX_LEN:-8192}
targets=${FUZZ_TARGETS:-$(cd "$here" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}
pkgs="libevent jansson inih libcurl libzstd"

cc=${FUZZ_CC:-}
if [ -z "$cc" ]; then
    for c in clang-14 clang; do
        if command -v "$c" >/dev/null 2>&1; then cc=$c; break; fi
    done
fi
if [ -z "$cc" ]; then
    echo "fuzz: clang is missing (apt-get install clang-14 libclang-rt-14-dev)" >&2
    exit 1
fi
mkdir -p "$out/proxy" "$out/logs"

# libFuzzer and the sanitizer runtimes come with libclang-rt-14-dev on Debian.
probe() {
    printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
        "$cc" -fsanitize=fuzzer,address,undefined -x c - -o "$out/probe" >/dev/null 2>&1
}
if ! probe; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "fuzz: installing libclang-rt-14-dev"
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q libclang-rt-14-dev >/dev/null
    fi
    if ! probe; then
        echo "fuzz: $cc cannot link -fsanitize=fuzzer; run as root: apt-get install libclang-rt-14-dev" >&2
        exit 1
    fi
fi
rm -f "$out/probe"

san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer $FUZZ_CFLAGS"
incs=$(for d in "$root"/proxy/*/; do printf ' -I%s' "${d%/}"; done)
cflags="-O1 -g -std=c11 -D_GNU_SOURCE $incs $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -lm"

# The proxy objects (everything but main.c, as the Makefile's LIB_OBJS), with coverage.
echo "fuzz: building with $cc"
rm -f "$out"/proxy/*.o
for src in "$root"/proxy/*.c "$root"/proxy/*/*.c; do
    name=$(basename "$src" .c)
    [ "$name" = main ] && continue
    "$cc" $cflags $san -fsanitize=fuzzer-no-link -c "$src" -o "$out/proxy/$name.o"
done
for t in $targets; do
    "$cc" $cflags $san -fsanitize=fuzzer "$here/fuzz_$t.c" "$out"/proxy/*.o \
        $libs -o "$out/fuzz_$t"
done

run_one() {
    t=$1
    mkdir -p "$out/corpus/$t" "$out/crashes/$t" "$out/work/$t" "$here/corpus/$t"
    case $t in
        config_*) dict="-dict=$here/dict/config.dict" ;;
        ndjson) dict="" ;;
        *) dict="-dict=$here/dict/openai.dict" ;;
    esac
    # In a scratch directory: config_load may open relative file names.
    if (cd "$out/work/$t" && TMPDIR="$out/work/$t" "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 \
        -artifact_prefix="$out/crashes/$t/" $dict $FUZZ_OPTS \
        "$out/corpus/$t" "$here/corpus/$t") >"$out/logs/$t.log" 2>&1; then
        status=ok
    else
        status=CRASH
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/logs/$t.log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$out/logs/$t.log" | tail -n 1)
    echo "fuzz: $t: $status, ${execs:-?} runs in ${seconds}s, $cov, corpus $(ls "$out/corpus/$t" | wc -l) files"
    if [ "$status" = CRASH ]; then
        grep -a -m 3 -E 'ERROR:|runtime error|invariant|Test unit written' "$out/logs/$t.log" | sed 's/^/fuzz:   /'
        return 1
    fi
    if [ -n "$FUZZ_MERGE" ]; then
        (cd "$out/work/$t" && "$out/fuzz_$t" -merge=1 -use_counters=0 -max_len="$max_len" \
            "$here/corpus/$t" "$out/corpus/$t") >>"$out/logs/$t.log" 2>&1
    fi
}

running=0
for t in $targets; do
    rm -f "$out/logs/$t.failed"
    (run_one "$t" || touch "$out/logs/$t.failed") &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait
        running=0
    fi
done
wait
failed=""
for t in $targets; do
    [ -e "$out/logs/$t.failed" ] && failed="$failed $t"
done
if [ -n "$failed" ]; then
    echo "fuzz: crashes in:$failed (inputs in build/libfuzzer/crashes/<target>/, logs in build/libfuzzer/logs/)" >&2
    exit 1
fi
echo "fuzz: no crashes"
