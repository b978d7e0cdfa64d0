#!/usr/bin/env bash
# scripts/detectors.sh: produces the real tool output shown in the book.
#
#   detectors  leaklab, valgrind memcheck, LeakSanitizer, Miri and heaptrack on one exercise's starter spec
#              (05-tree-parent) -> book/src/detectors/output/*.txt, plus a sample JSON report ->
#              book/src/reference/output/report.json
#   pages      every exercise's failure report as a learner sees it -> book/src/<track>/output/NN-slug.txt
#              (the property test's: leaklab's report and the minimal input; for a compile-fail exercise,
#              trybuild's verdicts and the spec's message), NN-slug.<test>.txt for each other failing test
#              (a soak test, say), and NN-slug.seed-<n>.txt for the extra seeds in EXTRA_SEEDS below; all
#              included by the exercise's page
#   plots      the growth plots of the "Soak and load testing" chapter -> book/src/defences/output/
#
# Usage: scripts/detectors.sh [detectors] [pages] [plots]   (no argument: all three)
# Environment: DETECTORS_EXERCISE (default 05-tree-parent), DETECTORS_SEED (proptest seed, default 1).
# Needs: cargo, jq, valgrind, heaptrack (heaptrack_print); a nightly toolchain for LeakSanitizer and, with
# its miri component, Miri. Missing tools are written down as skipped, with the reason, instead of failing.
#
# Output is kept short and stable so that re-running the script gives a small diff: a fixed proptest seed,
# one test, one thread, LEAKLAB_SITES=0 under the external tools (sites change block sizes), stacks trimmed
# to the exercise's and leaklab's frames, and pids, addresses, hashes and absolute paths normalised.
# Not part of .ci/run: it takes a minute or two and depends on what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

EXERCISE=${DETECTORS_EXERCISE:-05-tree-parent}
SEED=${DETECTORS_SEED:-1}
NIGHTLY_TARGET_DIR=target/oracle-lsan # shared with scripts/oracle.sh: same flags, same toolchain
OUT=book/src/detectors/output
WORK=target/detectors
mkdir -p "$OUT" "$WORK"

STEPS=("$@")
[[ ${#STEPS[@]} -gt 0 ]] || STEPS=(detectors pages plots)
want() { [[ " ${STEPS[*]} " == *" $1 "* ]]; }
log() { printf '==> %s\n' "$*" >&2; }

for tool in cargo jq; do
    command -v "$tool" >/dev/null || { echo "detectors: $tool is not installed" >&2; exit 1; }
done

# The environment of every run: deterministic inputs, no backtraces, no colour.
export PROPTEST_RNG_SEED=$SEED RUST_BACKTRACE=0 CARGO_TERM_COLOR=never NO_COLOR=1

# Absolute paths, hashes and addresses that change from machine to machine or run to run.
normalise() {
    sed -E \
        -e "s#$ROOT/##g" \
        -e 's#/rustc/[0-9a-f]{40}/#/rustc/<hash>/#g' \
        -e 's#/root/\.cargo/registry/src/[^/]+/#<registry>/#g; s#'"${CARGO_HOME:-$HOME/.cargo}"'/registry/src/[^/]+/#<registry>/#g' \
        -e 's#(spec|tree_parent|[a-z_]+)-[0-9a-f]{16}\b#\1-<hash>#g' \
        -e 's/^==[0-9]+==/==PID==/' \
        -e "s/^thread '([^']*)' \\([0-9]+\\) panicked/thread '\\1' panicked/" \
        -e 's/\(tid [0-9]+\)/(tid N)/g; s/fd [0-9]+ ->/fd N ->/g' \
        -e 's#(^|[^[:alnum:]_.-])/tmp/\.tmp[[:alnum:]]{6}/#\1@TMPDIR@/#g' \
        -e 's#(^|[^[:alnum:]_.-])(/tmp|/var/tmp)/[^ ,)]*#\1[temp file]#g' \
        -e 's#@TMPDIR@/#/tmp/.tmpXXXXXX/#g' \
        -e 's/finished in [0-9.]+s/finished in N.NNs/'
}

# Package name and track of an exercise directory name (NN-slug).
track_of() { sed -nE 's/^[[:space:]]*track[[:space:]]*=[[:space:]]*"([^"]+)".*/\1/p' "exercises/$1/exercise.toml"; }

bin_of() { awk -F'\t' -v d="$ROOT/exercises/$2" '$1 == d { print $2 }' "$1"; }

# The failure reports of a spec run, as the learner reads them: the panic message of each failing test
# (leaklab's report and proptest's minimal input), without libtest's and proptest's bookkeeping, written to
# DIR/<test>.txt (the test's name without `spec::`). Of a test that panics twice (trybuild, then the spec's
# own message), the last message.
failure_reports() {
    rm -rf "$1" && mkdir -p "$1"
    awk -v dir="$1" '
        function flush(   i, file) {
            if (name == "") return
            while (n > 0 && lines[n - 1] == "") n--
            file = dir "/" name ".txt"
            for (i = 0; i < n; i++) print lines[i] > file
            close(file)
            name = ""; n = 0; body = 0
        }
        /^---- .* stdout ----$/ { flush(); name = $2; sub(/^spec::/, "", name); next }
        name == "" { next }
        /^failures:$/ { flush(); next }
        /^thread .* panicked at / { body = 1; n = 0; next }
        body && (/^\t(successes|local rejects|global rejects):/ || /^note: / || /^stack backtrace:/) { body = 0; next }
        body { sub(/^Test failed: /, ""); lines[n++] = $0 }
        END { flush() }'
}

# What trybuild printed about each compile-fail case ("test <case>.rs ... error" and why), without the
# build lines of the cargo it runs.
trybuild_verdicts() {
    awk '
        /^test .*\.rs \.\.\. / { on = 1 }
        on && (/^FAILED$/ || /^test spec::/ || /^failures:$/) { on = 0 }
        !on || /^ +(Compiling|Checking|Finished|Blocking|Locking|Updating|Downloading|Downloaded|Adding) / { next }
        /^$/ { blanks++; next }
        { if (printed && blanks) print ""; print; printed = 1; blanks = 0 }'
}

# Trims a stack trace to the frames worth reading. Records are separated by blank lines (valgrind's
# "==PID== " lines must be stripped first); frames are lines matching FRAME; frames not matching KEEP are
# collapsed into one "..." line per run. Prints one record per line, newlines as \x1f, prefixed by a sort key.
collapse_frames() {
    awk -v frame="$1" -v keep="$2" -v head="$3" '
        function flush() {
            if (rec != "") print key "\t" rec
            rec = ""; key = ""; dots = 0
        }
        $0 ~ head { flush(); match($0, /[0-9][0-9,]*/); key = substr($0, RSTART, RLENGTH); gsub(",", "", key); rec = $0; next }
        rec == "" { next }
        /^[[:space:]]*$/ { flush(); next }
        $0 ~ frame {
            if ($0 ~ keep) { rec = rec "\x1f" $0; dots = 0 }
            else if (!dots) { rec = rec "\x1f    ..."; dots = 1 }
            next
        }
        { rec = rec "\x1f" $0 }
        END { flush() }'
}
# Picks the COUNT biggest records (ties broken by text, so the choice is stable) and prints them.
biggest() { sort -t$'\t' -k1,1nr -k2,2 | awk -F'\t' '!seen[$2]++' | head -n "$1" | cut -f2- | tr '\037' '\n' | sed 's/$//'; }

# ---- the exercise's pages: failure reports ---------------------------------------------------------------

# Extra runs with another proptest seed, for pages that show a second minimal case (a second leak) too:
# NN-slug.seed-<n>.txt. Each must differ from the page's main report, or the script stops.
declare -A EXTRA_SEEDS=([11-c-strings]=6)

if want pages; then
    PAGES=()
    COMPILE_FAIL=()
    for dir in exercises/[0-9][0-9]-*/; do
        id=$(basename "$dir")
        if is_compile_fail "$id"; then COMPILE_FAIL+=("$id"); else PAGES+=("$id"); fi
    done
    log "pages: building ${#PAGES[@]} starter specs"
    build_specs -- "${PAGES[@]#[0-9][0-9]-}" >"$WORK/bins.tsv"
    for id in "${PAGES[@]}" "${COMPILE_FAIL[@]}"; do
        track=$(track_of "$id")
        out=book/src/$track/output
        mkdir -p "$out"
        rm -f "$out/$id.txt" "$out/$id".*.txt
        log "pages: $id"
        if is_compile_fail "$id"; then
            # Through cargo, which gives trybuild the environment it reads (CARGO_MANIFEST_DIR, ...). The
            # first run builds the cases' dependencies: minutes, not seconds.
            (cd "exercises/$id" && cargo test -p "${id#[0-9][0-9]-}" --test spec -- --test-threads=1 \
                >"$ROOT/$WORK/$id.out" 2>&1) || true
        else
            (cd "exercises/$id" && LEAKLAB_SITES=1 "$(bin_of "$ROOT/$WORK/bins.tsv" "$id")" --test-threads=1 \
                >"$ROOT/$WORK/$id.out" 2>&1) || true
        fi
        failure_reports "$WORK/$id.reports" <"$WORK/$id.out"
        # The page's main report: the property test's (the one with a minimal input), or the only one.
        main=$(grep -l '^minimal failing input' "$WORK/$id.reports"/*.txt 2>/dev/null | head -n1 || true)
        [[ -n $main ]] || main=$(find "$WORK/$id.reports" -name '*.txt' | sort | head -n1)
        if [[ -z $main || ! -s $main ]]; then
            echo "detectors: $id's starter spec printed no failure report; see $WORK/$id.out" >&2
            exit 1
        fi
        if is_compile_fail "$id"; then
            { trybuild_verdicts <"$WORK/$id.out"; echo "..."; cat "$main"; } | normalise >"$out/$id.txt"
        else
            normalise <"$main" >"$out/$id.txt"
        fi
        for report in "$WORK/$id.reports"/*.txt; do
            [[ $report == "$main" ]] || normalise <"$report" >"$out/$id.$(basename "$report")"
        done
        for seed in ${EXTRA_SEEDS[$id]-}; do
            log "pages: $id, seed $seed"
            (cd "exercises/$id" && PROPTEST_RNG_SEED=$seed LEAKLAB_SITES=1 "$(bin_of "$ROOT/$WORK/bins.tsv" "$id")" \
                --test-threads=1 "$(basename "$main" .txt)" >"$ROOT/$WORK/$id.seed-$seed.out" 2>&1) || true
            failure_reports "$WORK/$id.seed-$seed.reports" <"$WORK/$id.seed-$seed.out"
            normalise <"$WORK/$id.seed-$seed.reports/$(basename "$main")" >"$out/$id.seed-$seed.txt"
            if [[ ! -s $out/$id.seed-$seed.txt ]] || cmp -s "$out/$id.seed-$seed.txt" "$out/$id.txt"; then
                echo "detectors: $id with seed $seed shows nothing new; choose another seed in EXTRA_SEEDS" >&2
                exit 1
            fi
        done
    done
fi

# ---- the detectors chapter -------------------------------------------------------------------------------

if want detectors; then
    SLUG=${EXERCISE#[0-9][0-9]-}
    CRATE=${SLUG//-/_}
    # The spec's leak property: the first test whose name mentions a leak.
    TEST=$(grep -m1 -oE 'fn [a-z0-9_]*leak[a-z0-9_]*' "tests/${EXERCISE//-/_}.rs" | cut -c4-)
    log "detectors: building $EXERCISE's starter spec"
    build_specs -- "$SLUG" >"$WORK/detector-bins.tsv"
    # A copy at a fixed path, so the command line (which ends up in the output) is the same on every machine.
    SPEC=$WORK/$EXERCISE-spec
    cp "$(bin_of "$WORK/detector-bins.tsv" "$EXERCISE")" "$SPEC"
    RUN=(../../"$SPEC" --test-threads=1 "$TEST")
    SHOWN="target/detectors/$EXERCISE-spec --test-threads=1 $TEST"
    KEEP="malloc|leaklab::alloc::|LeakLab|$CRATE::|spec::spec::run"

    {
        echo "# $(rustc -V)"
        echo "# $(cargo -V)"
        if NIGHTLY=$(rustc +nightly -V 2>/dev/null); then echo "# nightly: $NIGHTLY"; else echo "# nightly: not installed"; fi
        if command -v valgrind >/dev/null; then echo "# $(valgrind --version)"; else echo "# valgrind: not installed"; fi
        if command -v heaptrack >/dev/null; then echo "# $(heaptrack --version)"; else echo "# heaptrack: not installed"; fi
    } >"$OUT/versions.txt"

    # leaklab: the spec as the learner runs it (sites on), and its JSON reports.
    log "detectors: leaklab"
    rm -rf "$WORK/reports"
    (cd "exercises/$EXERCISE" && LEAKLAB_SITES=1 LEAKLAB_REPORT_DIR="$ROOT/$WORK/reports" "${RUN[@]}" >"$ROOT/$WORK/leaklab.out" 2>&1) || true
    {
        echo "\$ cd exercises/$EXERCISE"
        echo "\$ PROPTEST_RNG_SEED=$SEED cargo test -p $SLUG --test spec -- --test-threads=1 $TEST"
        echo "[... cargo's build lines ...]"
        sed -n '/^running /,$p' "$WORK/leaklab.out" | awk '
            /^stack backtrace:/ { skip = 1 } skip && /^$/ { skip = 0; next } !skip' | normalise | cat -s
    } >"$OUT/leaklab.txt"
    reports=$(cat "$WORK"/reports/*.jsonl | wc -l)
    leaks=$(cat "$WORK"/reports/*.jsonl | jq -s 'map(select(.verdict == "leak")) | length')
    echo "$reports reports written to LEAKLAB_REPORT_DIR, $leaks of them leaks (one per proptest case and shrinking step)" \
        >"$OUT/leaklab-reports.txt"
    mkdir -p book/src/reference/output
    cat "$WORK"/reports/*.jsonl | jq -s 'map(select(.verdict == "leak")) | min_by([.leaked_blocks, .leaked_bytes, .label])' |
        normalise >book/src/reference/output/report.json

    # A learner's results file, as `cargo run -- report --format json` writes it on a fresh checkout: the
    # runner is pointed at a scratch root whose exercises are the real ones and which has no state file.
    rm -rf "$WORK/fresh-root" && mkdir -p "$WORK/fresh-root"
    for d in exercises solutions tests; do ln -s "$ROOT/$d" "$WORK/fresh-root/$d"; done
    LEAKLAB_WORKSHOP_ROOT=$ROOT/$WORK/fresh-root cargo run -q -- report --format json --name ada |
        jq '.generated = 1767225600 | .exercises |= .[:2]' >book/src/reference/output/results.json

    # valgrind memcheck.
    if command -v valgrind >/dev/null; then
        log "detectors: valgrind"
        VG=(valgrind --leak-check=full --show-leak-kinds=all --num-callers=40 --log-file="$ROOT/$WORK/valgrind.log")
        (cd "exercises/$EXERCISE" && LEAKLAB_SITES=0 "${VG[@]}" "${RUN[@]}" >/dev/null 2>&1) || true
        sed -E 's/^==[0-9]+== ?//; s/(at|by) 0x[0-9A-F]+: /\1 /' "$WORK/valgrind.log" >"$WORK/valgrind.plain"
        {
            echo "\$ cd exercises/$EXERCISE"
            echo "\$ LEAKLAB_SITES=0 PROPTEST_RNG_SEED=$SEED valgrind --leak-check=full --show-leak-kinds=all \\"
            echo "      ../../$SHOWN"
            sed -n '/^HEAP SUMMARY:/,/^$/p' "$WORK/valgrind.plain"
            echo "[... the largest definitely lost record ...]"
            collapse_frames '^ *(at|by) ' "$KEEP" 'are definitely lost in loss record' <"$WORK/valgrind.plain" | biggest 1
            echo
            echo "[... the largest possibly lost record ...]"
            collapse_frames '^ *(at|by) ' "$KEEP|test::|lang_start|proptest::" 'are possibly lost in loss record' <"$WORK/valgrind.plain" | biggest 1
            echo
            sed -n '/^LEAK SUMMARY:/,/^$/p' "$WORK/valgrind.plain"
        } | normalise | sed -E 's/ loss record [0-9]+ of [0-9]+/ loss record N of M/' | cat -s >"$OUT/valgrind.txt"
    else
        echo "skipped: valgrind is not installed (Debian: apt-get install valgrind)" >"$OUT/valgrind.txt"
    fi

    # heaptrack.
    if command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null; then
        log "detectors: heaptrack"
        rm -f "$WORK"/heaptrack.*
        (cd "exercises/$EXERCISE" && LEAKLAB_SITES=0 heaptrack -o "$ROOT/$WORK/heaptrack" "${RUN[@]}" >/dev/null 2>&1) || true
        heaptrack_print -f "$WORK"/heaptrack.zst --print-peaks 0 --print-allocators 0 --print-temporary 0 \
            --print-leaks 1 --filter-bt-function "$CRATE" >"$WORK/heaptrack.print" 2>&1
        {
            echo "\$ cd exercises/$EXERCISE"
            echo "\$ LEAKLAB_SITES=0 PROPTEST_RNG_SEED=$SEED heaptrack -o heaptrack ../../$SHOWN"
            echo "\$ heaptrack_print -f heaptrack.zst --print-peaks 0 --print-allocators 0 --print-temporary 0 \\"
            echo "      --print-leaks 1 --filter-bt-function $CRATE"
            # Rust's legacy symbol escapes, and the per-build hash at the end of each symbol.
            sed -E 's/::h[0-9a-f]{16}$//; s/\$LT\$/</g; s/\$GT\$/>/g; s/\$u20\$/ /g; s/\$u7b\$/{/g; s/\$u7d\$/}/g;
                    s/\$RF\$/\&/g; s/\$LP\$/(/g; s/\$RP\$/)/g; s/\$C\$/,/g; /^ *(at|in) /!s/\.\./::/g; s/(^ *|::)_</\1</g' "$WORK/heaptrack.print" |
                awk -v keep="$KEEP|std::alloc::System" '
                    /^MEMORY LEAKS/ { on = 1; print; next }
                    !on && /^(total memory leaked|calls to allocation functions):/ { sub(/ \([0-9.]+\/s\)/, ""); print; next }
                    !on { next }
                    /^$/ { on = 0; print "[...]"; next }
                    /leaked over [0-9]+ calls from/ { entries++; if (entries > 3) { more = 1; next } print; dots = 0; next }
                    more { next }
                    /^ +(at|in) / { if (kept) print; next }
                    /^ *and .* from [0-9]+ other places/ { print; next }
                    { kept = ($0 ~ keep); if (kept) { print; dots = 0 } else if (!dots) { print "    ..."; dots = 1 } }'
        } | normalise | grep -Ev '^ +in ' | cat -s >"$OUT/heaptrack.txt"
    else
        echo "skipped: heaptrack is not installed (Debian: apt-get install heaptrack)" >"$OUT/heaptrack.txt"
    fi

    # LeakSanitizer and Miri need a nightly toolchain.
    HOST=$(rustc -vV | sed -n 's/^host: //p')
    if ! NIGHTLY=$(rustc +nightly -V 2>/dev/null); then
        echo "skipped: no nightly toolchain installed (rustup toolchain install nightly)" >"$OUT/lsan.txt"
        echo "skipped: no nightly toolchain installed (rustup toolchain install nightly --component miri)" >"$OUT/miri.txt"
    else
        log "detectors: LeakSanitizer ($NIGHTLY)"
        if RUSTFLAGS=-Zsanitizer=leak build_specs +nightly --target "$HOST" --target-dir "$NIGHTLY_TARGET_DIR" -- "$SLUG" \
            >"$WORK/lsan-bins.tsv" 2>"$WORK/lsan-build.err"; then
            cp "$(bin_of "$WORK/lsan-bins.tsv" "$EXERCISE")" "$SPEC-lsan"
            (cd "exercises/$EXERCISE" && LEAKLAB_SITES=0 LSAN_OPTIONS=fast_unwind_on_malloc=0:malloc_context_size=40 \
                ../../"$SPEC-lsan" --test-threads=1 "$TEST" >"$ROOT/$WORK/lsan.out" 2>&1) || true
            {
                echo "# $NIGHTLY"
                echo "\$ RUSTFLAGS=-Zsanitizer=leak cargo +nightly test -p $SLUG --test spec --target $HOST --no-run"
                echo "\$ cd exercises/$EXERCISE"
                echo "\$ LEAKLAB_SITES=0 PROPTEST_RNG_SEED=$SEED LSAN_OPTIONS=fast_unwind_on_malloc=0:malloc_context_size=40 \\"
                echo "      ../../target/$HOST/debug/deps/spec-<hash> --test-threads=1 $TEST"
                grep -m1 'ERROR: LeakSanitizer' "$WORK/lsan.out" | sed -E 's/^==[0-9]+==/==PID==/'
                echo "[... the two largest records ...]"
                sed -E 's/#([0-9]+) 0x[0-9a-f]+ in /#\1 /' "$WORK/lsan.out" |
                    collapse_frames '^ +#[0-9]+ ' "$KEEP" '^(Direct|Indirect) leak of ' | biggest 2
                echo
                grep -E '^SUMMARY: LeakSanitizer' "$WORK/lsan.out"
            } | normalise | cat -s >"$OUT/lsan.txt"
        else
            { echo "# $NIGHTLY"; echo "skipped: the -Zsanitizer=leak build failed:"; head -5 "$WORK/lsan-build.err"; } >"$OUT/lsan.txt"
        fi
        if cargo +nightly miri --version >/dev/null 2>&1; then
            log "detectors: Miri"
            (cd "exercises/$EXERCISE" && LEAKLAB_SITES=0 MIRIFLAGS=-Zmiri-disable-isolation PROPTEST_CASES=2 \
                cargo +nightly miri test -p "$SLUG" --test spec -- --test-threads=1 "$TEST" >"$ROOT/$WORK/miri.out" 2>&1) || true
            { echo "# $NIGHTLY"; grep -E 'Undefined Behavior|memory leaked|leaked memory|test result' "$WORK/miri.out"; } |
                normalise >"$OUT/miri.txt"
        else
            {
                echo "# $NIGHTLY"
                echo "\$ cargo +nightly miri test -p $SLUG --test spec"
                echo "skipped: this nightly toolchain has no miri component (rustup component add --toolchain nightly miri rust-src),"
                echo "and it could not be downloaded on the machine that produced this book."
            } >"$OUT/miri.txt"
        fi
    fi
fi

# ---- growth plots ----------------------------------------------------------------------------------------

if want plots; then
    log "plots: book-examples growth-plot"
    mkdir -p book/src/defences/output
    LEAKLAB_PLOT_DIR=$ROOT/book/src/defences/output cargo run -q -p book-examples --example growth-plot |
        normalise >book/src/defences/output/growth.txt
fi

log "done; review the diff: git diff --stat book/src"
