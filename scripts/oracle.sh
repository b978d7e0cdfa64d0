#!/usr/bin/env bash
# scripts/oracle.sh: checks leaklab's verdicts against independent leak detectors and writes docs/ORACLE.md.
#
# For every exercise under exercises/ (compile-fail exercises are skipped with a note), the starter's and the
# solution's spec test binaries are built in one cargo call and run under valgrind memcheck; the same run's
# leaklab verdict is read from its LEAKLAB_REPORT_DIR JSON reports. Where a nightly toolchain is installed,
# they are also built with -Zsanitizer=leak (LeakSanitizer) and, if the miri component is installed, a few
# are run under Miri. Expected: starters leak, solutions are clean, and every detector says the same as leaklab.
#
# Usage: scripts/oracle.sh [--only NN-slug[,NN-slug...]] [--no-nightly] [--out FILE]
# Environment: ORACLE_CASES (proptest cases per property under valgrind and LSan, default 32), ORACLE_SEED
# (proptest seed, default 1), ORACLE_MIRI_CASES (default 2), ORACLE_LSAN_SUBSET / ORACLE_MIRI_SUBSET
# (comma-separated NN-slug lists; default every exercise for LSan, the first three for Miri), ORACLE_TIMEOUT
# (seconds per run, default 600), ORACLE_KEEP=1 (keep the scratch directory with every log).
# Needs: cargo, jq, valgrind (apt-get install valgrind jq). Not part of .ci/run: it takes minutes and
# the nightly parts depend on what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ONLY=""
NIGHTLY=1
OUT=docs/ORACLE.md
while [[ $# -gt 0 ]]; do
    case $1 in
        --only) ONLY=$2; shift 2 ;;
        --no-nightly) NIGHTLY=0; shift ;;
        --out) OUT=$2; shift 2 ;;
        -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "oracle: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

CASES=${ORACLE_CASES:-32}
# A fixed proptest seed: the same inputs on every run, so a starter that leaks here leaks every time.
SEED=${ORACLE_SEED:-1}
MIRI_CASES=${ORACLE_MIRI_CASES:-2}
TIMEOUT=${ORACLE_TIMEOUT:-600}
SUPP=$ROOT/scripts/valgrind.supp

for tool in cargo jq valgrind timeout; do
    if ! command -v "$tool" >/dev/null; then
        echo "oracle: $tool is not installed (Debian: apt-get install valgrind jq)" >&2
        exit 1
    fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/leaklab-oracle.XXXXXX")
[[ -n ${ORACLE_KEEP:-} ]] || trap 'rm -rf "$WORK"' EXIT
log() { printf '==> %s\n' "$*" >&2; }

# ---- the exercises -------------------------------------------------------------------------------------

# Package name and lib target name of every workspace member, by directory.
cargo metadata --no-deps --format-version 1 |
    jq -r '.packages[] | [(.manifest_path | sub("/Cargo.toml$"; "")), .name,
           ((.targets[] | select(.kind | index("lib")) | .name) // "")] | @tsv' >"$WORK/packages.tsv"
package_of() { awk -F'\t' -v d="$1" '$1 == d { print $2 }' "$WORK/packages.tsv"; }

EXERCISES=()
declare -A STARTER_PKG SOLUTION_PKG
SKIPPED=()
for dir in exercises/[0-9][0-9]-*/; do
    id=$(basename "$dir")
    if [[ -n $ONLY && ",$ONLY," != *",$id,"* ]]; then
        continue
    fi
    if is_compile_fail "$id"; then
        SKIPPED+=("$id: grading = \"compile-fail\" (its spec checks that misuse does not compile; there is no leak to run)")
        continue
    fi
    starter=$(package_of "$ROOT/exercises/$id")
    solution=$(package_of "$ROOT/solutions/$id")
    if [[ -z $starter || -z $solution ]]; then
        SKIPPED+=("$id: no workspace package for exercises/$id or solutions/$id")
        continue
    fi
    EXERCISES+=("$id")
    STARTER_PKG[$id]=$starter
    SOLUTION_PKG[$id]=$solution
done
if [[ ${#EXERCISES[@]} -eq 0 ]]; then
    echo "oracle: no exercises to check" >&2
    exit 1
fi


PKGS=()
for id in "${EXERCISES[@]}"; do PKGS+=("${STARTER_PKG[$id]}" "${SOLUTION_PKG[$id]}"); done
log "building ${#PKGS[@]} spec binaries (one cargo call)"
build_specs -- "${PKGS[@]}" >"$WORK/bins.tsv"
bin_of() { awk -F'\t' -v d="$2" '$1 == d { print $2 }' "$1"; }

# ---- reading the results -------------------------------------------------------------------------------

# leaklab's verdict from a report directory: leak (any "leak" line), clean (only clean lines), or none.
leaklab_verdict() {
    local dir=$1
    if ! compgen -G "$dir/*.jsonl" >/dev/null; then
        echo none
        return
    fi
    cat "$dir"/*.jsonl | jq -rs '
        [.[] | select(.schema == "leaklab.report/1")] as $r
        | if ($r | map(select(.verdict == "leak")) | length) > 0 then
              "leak (\($r | map(select(.verdict == "leak")) | length) of \($r | length) reports)"
          elif ($r | length) > 0 then "clean (\($r | length) reports)" else "none" end'
}

# Sums "<kind> lost: N bytes" from valgrind's last LEAK SUMMARY, the one at exit (0 when absent). The
# summaries before it are leaklab's own mid-run heap counts (see region_check).
vg_bytes() { awk -v k="$2 lost:" '/LEAK SUMMARY:/ { s = 0 } index($0, k) { gsub(",", "", $0); for (i = 1; i <= NF; i++) if ($i == "lost:") s += $(i + 1) } END { print s + 0 }' "$1"; }

# Region by region: under valgrind, each leaklab report carries `valgrind`, the change in the whole heap's
# blocks that memcheck counted while the region ran. Prints "<verdict>|<summary>": the verdict is leak when
# in some region both leaklab and valgrind saw blocks kept, n/a when leaklab's only leaks were descriptors,
# threads or files (which memcheck does not count), clean otherwise.
region_check() {
    local dir=$1
    if ! compgen -G "$dir/*.jsonl" >/dev/null; then
        echo "none|no reports"
        return
    fi
    cat "$dir"/*.jsonl | jq -rs '
        [.[] | select(.schema == "leaklab.report/1" and .valgrind != null)] as $r
        | ($r | map(select(.verdict == "leak" and .leaked_blocks > 0 and .valgrind.blocks > 0)) | length) as $both
        | ($r | map(select(.verdict == "leak" and .leaked_blocks == 0)) | length) as $other
        | ($r | map(select(.verdict == "leak" and .leaked_blocks == .valgrind.blocks)) | length) as $exact
        | ($r | map(select(.verdict == "leak")) | length) as $leaks
        | ($r | map(select(.verdict == "clean")) | length) as $clean
        | ($r | map(select(.verdict == "clean" and .valgrind.blocks <= 0)) | length) as $clean_too
        | ([$r[] | select(.verdict == "leak" and .leaked_blocks == 0)
            | (if (.fds | length) > 0 then "descriptors" else empty end),
              (if ((.files // []) | length) > 0 then "files on disk" else empty end),
              (if (.threads | length) > 0 then "threads" else empty end)] | unique | join(", ")) as $kinds
        | (if $both > 0 then "leak" elif $leaks > 0 and $other == $leaks then "n/a (\($kinds))"
           elif ($r | length) == 0 then "none" else "clean" end)
          + "|" + (if $leaks > 0 then "kept in \($both) of \($leaks) leaking regions, same block count in \($exact)"
                   else "\($clean) clean regions, valgrind counted nothing kept in \($clean_too)" end)'
}

# Loss records (definite or indirect) with and without a frame in the exercise's code (the crate's src/ or
# its spec, tests/NN_slug.rs, whose values the exercise may be the one to leak): "mine other".
# Usage: vg_records LOG CRATE_DIR
vg_records() {
    awk -v src="$2/src/" -v spec="/tests/$(basename "$2" | tr - _).rs" '
        / are (definitely|indirectly) lost in loss record / { inrec = 1; mine = 0; next }
        inrec && (index($0, src) || index($0, spec)) { mine = 1 }
        inrec && /^==[0-9]+== *$/ { if (mine) m++; else o++; inrec = 0 }
        END { print m + 0, o + 0 }' "$1"
}

# Non-leak memory errors valgrind found (invalid reads/writes/frees, uninitialised values).
vg_errors() { grep -Ec '== (Invalid (read|write|free)|Mismatched free|Conditional jump|Use of uninitialised|Syscall param)' "$1" || true; }

# Descriptors open at exit beyond stdin/stdout/stderr ("FILE DESCRIPTORS: N open (M std) at exit.").
# Inherited descriptors (valgrind's log, the caller's) are not counted.
vg_fds() {
    awk '/Open (file|AF_UNIX socket|AF_INET socket) descriptor [0-9]+/ { fd = 1; next }
         fd && /<inherited from parent>/ { fd = 0; next }
         fd && /^==[0-9]+== *$/ { n++; fd = 0 }
         END { print n + 0 }' "$1"
}

# ---- valgrind ------------------------------------------------------------------------------------------

# shellcheck disable=SC2054 # the commas are inside valgrind's option values
VALGRIND_ARGS=(--tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=40 --fullpath-after=
    --track-fds=yes --suppressions="$SUPP")

declare -A RES
# run_valgrind ID SIDE(starter|solution) CRATE_DIR BINARY
run_valgrind() {
    local id=$1 side=$2 crate=$3 bin=$4 d="$WORK/vg-$1-$2" rc=0 start end
    mkdir -p "$d"
    start=$(date +%s.%N)
    (cd "$crate" && env PROPTEST_CASES="$CASES" PROPTEST_RNG_SEED="$SEED" PROPTEST_MAX_SHRINK_ITERS=64 LEAKLAB_REPORT_DIR="$d/reports" \
        LEAKLAB_SITES=0 RUST_BACKTRACE=0 timeout "$TIMEOUT" valgrind "${VALGRIND_ARGS[@]}" --log-file="$d/valgrind.log" \
        "$bin" --test-threads=1 >"$d/test.out" 2>&1) || rc=$?
    end=$(date +%s.%N)
    local def ind pos mine other errs fds
    def=$(vg_bytes "$d/valgrind.log" definitely)
    ind=$(vg_bytes "$d/valgrind.log" indirectly)
    pos=$(vg_bytes "$d/valgrind.log" possibly)
    read -r mine other < <(vg_records "$d/valgrind.log" "$crate")
    errs=$(vg_errors "$d/valgrind.log")
    fds=$(vg_fds "$d/valgrind.log")
    RES[$id.$side.ll]=$(leaklab_verdict "$d/reports")
    local region
    region=$(region_check "$d/reports")
    RES[$id.$side.vgr]=${region%%|*}
    RES[$id.$side.vgr.summary]=${region#*|}
    RES[$id.$side.vg.bytes]=$((def + ind))
    RES[$id.$side.vg.possible]=$pos
    RES[$id.$side.vg.mine]=$mine
    RES[$id.$side.vg.other]=$other
    RES[$id.$side.vg.errors]=$errs
    RES[$id.$side.vg.fds]=$fds
    RES[$id.$side.vg.rc]=$rc
    RES[$id.$side.vg.secs]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    if [[ $rc == 124 ]]; then
        RES[$id.$side.vg]=timeout
    elif ((mine > 0 || fds > 0)); then
        RES[$id.$side.vg]=leak
    elif ((def + ind > 0)); then
        RES[$id.$side.vg]="leak outside the exercise"
    else
        RES[$id.$side.vg]=clean
    fi
    # Keep the logs of surprising runs for the reader.
    if [[ ($side == starter && ${RES[$id.$side.vg]} != leak) || ($side == solution && ${RES[$id.$side.vg]} != clean) ||
        $errs -gt 0 || $other -gt 0 ]]; then
        mkdir -p target/oracle
        cp "$d/valgrind.log" "target/oracle/$id-$side.valgrind.log"
    fi
}

# ---- LeakSanitizer -------------------------------------------------------------------------------------

# Direct/indirect leak reports with and without a frame in the exercise's code (as vg_records), and the
# leaked bytes: "mine other bytes".
# Usage: lsan_summary CRATE_DIR LOG...
lsan_summary() {
    local crate=$1
    shift
    awk -v src="$crate/src/" -v spec="/tests/$(basename "$crate" | tr - _).rs" '
        /^(Direct|Indirect) leak of / { if (inrec) { if (mine) m++; else o++ } inrec = 1; mine = 0; next }
        inrec && (index($0, src) || index($0, spec)) { mine = 1 }
        /^SUMMARY: LeakSanitizer: / { b += $3 }
        END { if (inrec) { if (mine) m++; else o++ } print m + 0, o + 0, b + 0 }' "$@"
}

# run_lsan ID SIDE CRATE_DIR BINARY
run_lsan() {
    local id=$1 side=$2 crate=$3 bin=$4 d="$WORK/lsan-$1-$2" rc=0
    mkdir -p "$d"
    (cd "$crate" && env PROPTEST_CASES="$CASES" PROPTEST_RNG_SEED="$SEED" PROPTEST_MAX_SHRINK_ITERS=64 LEAKLAB_REPORT_DIR="$d/reports" \
        LEAKLAB_SITES=0 RUST_BACKTRACE=0 LSAN_OPTIONS="exitcode=23:fast_unwind_on_malloc=0:malloc_context_size=40:log_path=$d/lsan" \
        timeout "$TIMEOUT" "$bin" --test-threads=1 >"$d/test.out" 2>&1) || rc=$?
    local mine other bytes
    if compgen -G "$d/lsan.*" >/dev/null; then
        read -r mine other bytes < <(lsan_summary "$crate" "$d"/lsan.*)
    else
        read -r mine other bytes <<<"0 0 0"
    fi
    RES[$id.$side.lsan.ll]=$(leaklab_verdict "$d/reports")
    RES[$id.$side.lsan.bytes]=$bytes
    RES[$id.$side.lsan.mine]=$mine
    RES[$id.$side.lsan.other]=$other
    RES[$id.$side.lsan.rc]=$rc
    if [[ $rc == 124 ]]; then
        RES[$id.$side.lsan]=timeout
    elif ((mine > 0)); then
        RES[$id.$side.lsan]=leak
    elif ((bytes > 0)); then
        RES[$id.$side.lsan]="leak outside the exercise"
    else
        RES[$id.$side.lsan]=clean
    fi
    if [[ ($side == starter && ${RES[$id.$side.lsan]} != leak) || ($side == solution && ${RES[$id.$side.lsan]} != clean) ]]; then
        mkdir -p target/oracle
        cat "$d"/lsan.* >"target/oracle/$id-$side.lsan.log" 2>/dev/null || true
    fi
}

# ---- Miri ----------------------------------------------------------------------------------------------

# run_miri ID SIDE PACKAGE
run_miri() {
    local id=$1 side=$2 pkg=$3 d="$WORK/miri-$1-$2" rc=0
    mkdir -p "$d"
    # Leak checking stays on (no -Zmiri-ignore-leaks); isolation is off so leaklab can read its
    # environment and write its JSON reports.
    env PROPTEST_CASES="$MIRI_CASES" PROPTEST_RNG_SEED="$SEED" PROPTEST_MAX_SHRINK_ITERS=4 LEAKLAB_REPORT_DIR="$d/reports" LEAKLAB_SITES=0 \
        RUST_BACKTRACE=0 MIRIFLAGS="-Zmiri-disable-isolation" CARGO_TARGET_DIR="$ROOT/target/oracle-miri" \
        timeout "$TIMEOUT" cargo +nightly miri test -p "$pkg" --test spec -- --test-threads=1 >"$d/test.out" 2>&1 || rc=$?
    RES[$id.$side.miri.ll]=$(leaklab_verdict "$d/reports")
    RES[$id.$side.miri.rc]=$rc
    if [[ $rc == 124 ]]; then
        RES[$id.$side.miri]=timeout
    elif grep -q "Undefined Behavior" "$d/test.out"; then
        RES[$id.$side.miri]="undefined behaviour"
    elif grep -Eq "memory leaked|the evaluated program leaked memory" "$d/test.out"; then
        RES[$id.$side.miri]=leak
    elif [[ $rc == 0 ]]; then
        RES[$id.$side.miri]=clean
    else
        # libtest ends a failing run with process::exit, and Miri checks for leaks only when main returns.
        RES[$id.$side.miri]="not checked (test failed, exit $rc)"
    fi
    mkdir -p target/oracle
    cp "$d/test.out" "target/oracle/$id-$side.miri.log"
}

# ---- the runs ------------------------------------------------------------------------------------------

for id in "${EXERCISES[@]}"; do
    for side in starter solution; do
        if [[ $side == starter ]]; then crate=$ROOT/exercises/$id; else crate=$ROOT/solutions/$id; fi
        bin=$(bin_of "$WORK/bins.tsv" "$crate")
        log "valgrind: $id $side"
        run_valgrind "$id" "$side" "$crate" "$bin"
    done
done

# LeakSanitizer runs at native speed, so it checks every exercise; Miri interprets, so only a few.
if [[ -n ${ORACLE_LSAN_SUBSET:-} ]]; then
    IFS=, read -r -a LSAN_SUBSET <<<"$ORACLE_LSAN_SUBSET"
else
    LSAN_SUBSET=("${EXERCISES[@]}")
fi
if [[ -n ${ORACLE_MIRI_SUBSET:-} ]]; then
    IFS=, read -r -a MIRI_SUBSET <<<"$ORACLE_MIRI_SUBSET"
else
    MIRI_SUBSET=("${EXERCISES[@]:0:3}")
fi
NIGHTLY_RUSTC=""
LSAN_STATUS="" MIRI_STATUS=""
if [[ $NIGHTLY == 0 ]]; then
    LSAN_STATUS="skipped: --no-nightly"
    MIRI_STATUS="skipped: --no-nightly"
    NIGHTLY_RUSTC="not used (--no-nightly)"
elif ! NIGHTLY_RUSTC=$(rustc +nightly -V 2>/dev/null); then
    LSAN_STATUS="skipped: no nightly toolchain installed (rustup toolchain install nightly)"
    MIRI_STATUS=$LSAN_STATUS
    NIGHTLY_RUSTC=""
else
    HOST=$(rustc +nightly -vV | sed -n 's/^host: //p')
    # LeakSanitizer: only its runtime is needed (it intercepts malloc), so the prebuilt std works without
    # -Zbuild-std. Check that first on a one-line program.
    probe="$WORK/lsan-probe"
    mkdir -p "$probe"
    echo 'fn main() { std::mem::forget(Box::new(7u64)); }' >"$probe/main.rs"
    if ! rustc +nightly -Zsanitizer=leak --target "$HOST" -o "$probe/main" "$probe/main.rs" 2>"$probe/err"; then
        LSAN_STATUS="skipped: rustc +nightly -Zsanitizer=leak does not work here: $(head -1 "$probe/err")"
    elif "$probe/main" 2>/dev/null; then
        LSAN_STATUS="skipped: a program built with -Zsanitizer=leak did not report its leak"
    else
        LSAN_PKGS=()
        for id in "${LSAN_SUBSET[@]}"; do
            [[ -n ${STARTER_PKG[$id]:-} ]] && LSAN_PKGS+=("${STARTER_PKG[$id]}" "${SOLUTION_PKG[$id]}")
        done
        log "LeakSanitizer: building ${#LSAN_PKGS[@]} spec binaries with cargo +nightly -Zsanitizer=leak"
        # --target keeps the flag off build scripts and proc macros; a separate target dir keeps the
        # stable build's artifacts intact.
        if RUSTFLAGS="-Zsanitizer=leak" build_specs +nightly --target "$HOST" --target-dir target/oracle-lsan \
            -- "${LSAN_PKGS[@]}" >"$WORK/lsan-bins.tsv"; then
            LSAN_STATUS=ran
            for id in "${LSAN_SUBSET[@]}"; do
                [[ -n ${STARTER_PKG[$id]:-} ]] || continue
                for side in starter solution; do
                    if [[ $side == starter ]]; then crate=$ROOT/exercises/$id; else crate=$ROOT/solutions/$id; fi
                    log "LeakSanitizer: $id $side"
                    run_lsan "$id" "$side" "$crate" "$(bin_of "$WORK/lsan-bins.tsv" "$crate")"
                done
            done
        else
            LSAN_STATUS="skipped: the -Zsanitizer=leak build failed"
        fi
    fi
    if ! cargo +nightly miri --version >/dev/null 2>&1; then
        MIRI_STATUS="skipped: the nightly toolchain has no miri component (rustup component add --toolchain nightly miri rust-src; it cannot be downloaded on this machine)"
    else
        MIRI_STATUS=ran
        for id in "${MIRI_SUBSET[@]}"; do
            [[ -n ${STARTER_PKG[$id]:-} ]] || continue
            log "Miri: $id"
            run_miri "$id" starter "${STARTER_PKG[$id]}"
            run_miri "$id" solution "${SOLUTION_PKG[$id]}"
        done
        # leaklab's own unit tests (the allocator's arithmetic, the settle loop, the cycle finder).
        log "Miri: leaklab's unit tests"
        if MIRIFLAGS="-Zmiri-disable-isolation" CARGO_TARGET_DIR="$ROOT/target/oracle-miri" timeout "$TIMEOUT" \
            cargo +nightly miri test -p leaklab --lib >"$WORK/miri-leaklab.out" 2>&1; then
            MIRI_LEAKLAB="passed: $(grep -Eo 'test result: ok\. [0-9]+ passed' "$WORK/miri-leaklab.out" | tail -1)"
        else
            MIRI_LEAKLAB="**failed** (log in target/oracle/leaklab.miri.log)"
            mkdir -p target/oracle
            cp "$WORK/miri-leaklab.out" target/oracle/leaklab.miri.log
            DISAGREE=1
        fi
    fi
fi
MIRI_LEAKLAB=${MIRI_LEAKLAB:-${MIRI_STATUS}}

# ---- the verdicts --------------------------------------------------------------------------------------

# leaklab's verdict word (leak, clean, none) from its summary.
word() { echo "${1%% *}"; }

# agreement DETECTOR ID: agrees / agrees (region check) / n/a (why) / disagrees / skipped, comparing with
# leaklab's verdict in the same run.
#
# The solution must be clean at exit. The starter must leak: at exit (blocks nothing points to any more, or
# descriptors left open), or, for valgrind, in the region check (blocks the starter kept, reachable, until
# the process freed them at exit: a registry, a pool, a cache). What no detector here can see is n/a: files
# left on disk and threads left running, and, for LeakSanitizer, memory that stays reachable.
agreement() {
    local det=$1 id=$2 s_ll s_det o_ll o_det region
    if [[ -z ${RES[$id.starter.$det]:-} ]]; then
        echo skipped
        return
    fi
    case $det in
        vg) s_ll=${RES[$id.starter.ll]} o_ll=${RES[$id.solution.ll]} ;;
        *) s_ll=${RES[$id.starter.$det.ll]} o_ll=${RES[$id.solution.$det.ll]} ;;
    esac
    s_det=${RES[$id.starter.$det]} o_det=${RES[$id.solution.$det]}
    region=${RES[$id.starter.vgr]:-none}
    if [[ $s_det == "not checked"* || $o_det == "not checked"* ]]; then
        echo "skipped (${s_det})"
    elif [[ $(word "$o_ll") != "$o_det" ]]; then
        echo disagrees
    elif [[ $(word "$s_ll") == "$s_det" ]]; then
        echo agrees
    elif [[ $(word "$s_ll") == leak && $region == "n/a"* ]]; then
        echo "$region"
    elif [[ $(word "$s_ll") == leak && $region == leak && $det == vg ]]; then
        echo "agrees (region check)"
    elif [[ $(word "$s_ll") == leak && $region == leak && ${RES[$id.starter.vg]} == clean ]]; then
        echo "n/a (reachable until exit)"
    else
        echo disagrees
    fi
}

DISAGREE=${DISAGREE:-0}
ROWS=""
for id in "${EXERCISES[@]}"; do
    vg=$(agreement vg "$id")
    ls=$(agreement lsan "$id")
    mi=$(agreement miri "$id")
    expected="yes"
    if [[ $(word "${RES[$id.starter.ll]}") != leak || $(word "${RES[$id.solution.ll]}") != clean ]]; then
        expected="**no**"
        DISAGREE=1
    fi
    for c in "$vg" "$ls" "$mi"; do [[ $c == disagrees ]] && DISAGREE=1; done
    ROWS+="| $id | $expected | $vg | $ls | $mi |"$'\n'
done

DETAILS=""
for id in "${EXERCISES[@]}"; do
    for side in starter solution; do
        DETAILS+="| $id | $side | ${RES[$id.$side.ll]} | ${RES[$id.$side.vg]} | ${RES[$id.$side.vgr]}: ${RES[$id.$side.vgr.summary]}"
        DETAILS+=" | ${RES[$id.$side.vg.bytes]} B"
        DETAILS+=" | ${RES[$id.$side.vg.mine]} / ${RES[$id.$side.vg.other]} | ${RES[$id.$side.vg.possible]} B"
        DETAILS+=" | ${RES[$id.$side.vg.errors]} | ${RES[$id.$side.vg.fds]} | ${RES[$id.$side.vg.secs]} s |"$'\n'
    done
done

NIGHTLY_DETAILS=""
for id in "${EXERCISES[@]}"; do
    for side in starter solution; do
        [[ -n ${RES[$id.$side.lsan]:-} || -n ${RES[$id.$side.miri]:-} ]] || continue
        lsan="${RES[$id.$side.lsan]:-skipped}"
        [[ -n ${RES[$id.$side.lsan]:-} ]] &&
            lsan+=" (${RES[$id.$side.lsan.bytes]} B; ${RES[$id.$side.lsan.mine]} / ${RES[$id.$side.lsan.other]} reports)"
        NIGHTLY_DETAILS+="| $id | $side | ${RES[$id.$side.lsan.ll]:-—} | $lsan | ${RES[$id.$side.miri.ll]:-—}"
        NIGHTLY_DETAILS+=" | ${RES[$id.$side.miri]:-skipped} |"$'\n'
    done
done

# Loss records outside the exercises' code, over every valgrind run: the harness noise that got through.
ELSEWHERE=0
for id in "${EXERCISES[@]}"; do
    for side in starter solution; do ELSEWHERE=$((ELSEWHERE + RES[$id.$side.vg.other])); done
done
if ((ELSEWHERE == 0)); then
    NOISE="In this run no definite or indirect loss record came from outside the exercises' own code (the column
*elsewhere* is 0 everywhere): the harness leaves nothing unreachable, so \`scripts/valgrind.supp\` needs no
entries yet."
else
    NOISE="**In this run $ELSEWHERE definite or indirect loss records came from outside the exercises' own code**
(column *elsewhere*): if they are harness noise, add suppressions for them to \`scripts/valgrind.supp\`
(\`valgrind --gen-suppressions=all\` prints them; the logs are in \`target/oracle/\`)."
fi

SKIP_NOTES=""
for s in "${SKIPPED[@]+"${SKIPPED[@]}"}"; do SKIP_NOTES+="- $s"$'\n'; done
[[ -n $SKIP_NOTES ]] || SKIP_NOTES="- none"$'\n'

# ---- docs/ORACLE.md ------------------------------------------------------------------------------------

mkdir -p "$(dirname "$OUT")"
{
    cat <<EOF
# leaklab's verdicts checked against valgrind, LeakSanitizer and Miri

Generated by \`scripts/oracle.sh\` on $(date -u +%Y-%m-%d) (do not edit by hand: rerun the script).

| tool | version |
| --- | --- |
| stable toolchain | $(rustc -V) |
| valgrind | $(valgrind --version) |
| nightly toolchain | ${NIGHTLY_RUSTC:-not installed} |
| LeakSanitizer | ${LSAN_STATUS/#ran/ran on ${LSAN_SUBSET[*]}} |
| Miri | ${MIRI_STATUS/#ran/ran on ${MIRI_SUBSET[*]}} |
| Miri on leaklab's own unit tests | ${MIRI_LEAKLAB} |

## Agreement

For each exercise the starter must leak and the solution must be clean. *leaklab as expected* says whether
leaklab's own verdicts (read from the JSON reports of the valgrind run) are leak / clean; a detector
*agrees* when its verdicts for the starter and the solution are the same as leaklab's in the same run.

| exercise | leaklab as expected | valgrind memcheck | LeakSanitizer | Miri |
| --- | --- | --- | --- | --- |
${ROWS}
Skipped exercises:

${SKIP_NOTES}
## valgrind details

\`valgrind ${VALGRIND_ARGS[*]/#--suppressions=*/--suppressions=scripts/valgrind.supp} <spec> --test-threads=1\` with \`PROPTEST_CASES=$CASES\`,
\`PROPTEST_RNG_SEED=$SEED\`, \`PROPTEST_MAX_SHRINK_ITERS=64\`, \`LEAKLAB_SITES=0\` and a fresh \`LEAKLAB_REPORT_DIR\`.

| exercise | side | leaklab (JSON) | valgrind at exit | valgrind region check | definite + indirect | records in the exercise / elsewhere | possibly lost (ignored) | memory errors | fds open at exit | time |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${DETAILS}
EOF
    if [[ -n $NIGHTLY_DETAILS ]]; then
        cat <<EOF
## LeakSanitizer and Miri details

LeakSanitizer: the spec built with \`RUSTFLAGS=-Zsanitizer=leak cargo +nightly test --target <host>\` (the
prebuilt std is enough: LSan only intercepts \`malloc\`), run with
\`LSAN_OPTIONS=fast_unwind_on_malloc=0:malloc_context_size=40\` so that stacks through std are complete.
Miri: \`cargo +nightly miri test\` with \`PROPTEST_CASES=$MIRI_CASES\` and leak checking on.

| exercise | side | leaklab (LSan run) | LeakSanitizer (bytes; reports in the exercise / elsewhere) | leaklab (Miri run) | Miri |
| --- | --- | --- | --- | --- | --- |
${NIGHTLY_DETAILS}
EOF
    fi
    cat <<'EOF'
## How to read this

**What counts as valgrind's verdict.** Only *definitely* and *indirectly lost* blocks count
(`--errors-for-leak-kinds=definite,indirect`). leaklab puts a 16-byte header in front of every block, so the
pointer a program holds points 16 bytes into the block valgrind sees: every live block is reachable only
through an interior pointer, and valgrind calls blocks held that way *possibly lost* instead of *still
reachable* (the libtest and proptest statics in the column above). Leaked blocks are different: nothing
points to them at all, or only other leaked blocks do, so they are definitely (or indirectly) lost with or
without the header, and that is what the verdict uses.

**Harness noise** is separated in two ways, both visible in the table. First, `scripts/valgrind.supp`
holds suppressions for blocks the test harness (libtest, proptest, std's thread and runtime set-up) may
leave behind on purpose; we chose suppressions over a leaklab-free build of the spec because the specs call
leaklab (`prop_assert_no_leaks!`, the `#[global_allocator]`) and cannot be compiled without it, and because
suppressions keep valgrind on the very binary whose leaklab verdict is compared. Second, each definite or
indirect loss record is attributed: a record whose allocation stack (40 frames, full paths) passes through
the exercise crate's own `src/`, or its spec (a value the spec made and the exercise leaked, such as the
`Rc` a callback captured), counts as the exercise's leak; any other is counted under *elsewhere*. A
starter agrees only if valgrind finds a leak in the exercise's own code; a solution agrees only if valgrind
finds nothing definite or indirect at all.
EOF
    echo
    echo "$NOISE"
    cat <<'EOF'

**leaklab's verdict** is never assumed: it is read from the `"verdict"` fields of the JSON reports the same
run wrote to `LEAKLAB_REPORT_DIR` (leak if any report says `"leak"`).

**The region check.** Some starters keep memory that is still reachable, and freed, when the process ends: a
registry or a cache that grows with every request, a pool whose lost leases are never reused. At exit there
is nothing for valgrind to report, yet the service would run out of memory. So the check goes region by
region too: under valgrind, leaklab asks memcheck (through valgrind's client requests, the interface of
`valgrind.h`) for the whole heap's block count as each region begins and ends, and writes the difference
into the report's `valgrind` field. *Kept in N of M leaking regions* counts the regions where leaklab and
valgrind both saw blocks kept; *same block count* those where valgrind's count of blocks kept is exactly
leaklab's. valgrind's count is of the whole heap, so it also sees other threads' allocations and
leaklab's own bookkeeping for nested regions; the count matches exactly only when the region's thread is
the only one allocating. A starter whose leak valgrind confirms only this way is marked *agrees (region
check)*. LeakSanitizer has no such counts, so for these starters its cell says *n/a (reachable until exit)*.
For solutions the column counts the clean regions where valgrind's count agreed that nothing was kept (the
others are other threads' allocations and one-time set-up, which leaklab rightly does not attribute).

**Descriptors** (`--track-fds=yes`): a starter that leaves a file open shows it under *fds open at exit*,
and that counts as valgrind's leak verdict (LeakSanitizer does not track descriptors). No detector here sees
files left on disk or threads left running (leaklab's directory and thread ledgers): where those are a
starter's only leak, the cell says *n/a* and what they are.

**Miri** checks for leaks only when `main` returns. libtest ends a run with failing tests through
`process::exit`, so a starter whose spec fails (every starter) is never leak-checked by Miri: its row can
only show undefined behaviour, or the solution's clean run.

**Logs** of every surprising run (a starter a detector calls clean, a solution it calls leaking, any memory
error) are kept in `target/oracle/`.
EOF
} >"$OUT"

log "wrote $OUT"
printf '%s\n' "| exercise | leaklab as expected | valgrind memcheck | LeakSanitizer | Miri |" "| --- | --- | --- | --- | --- |"
printf '%s' "$ROWS"
if [[ $DISAGREE == 1 ]]; then
    echo "oracle: at least one disagreement; see $OUT" >&2
    exit 1
fi
