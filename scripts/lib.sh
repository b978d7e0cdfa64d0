# scripts/lib.sh: shell functions shared by scripts/oracle.sh and scripts/detectors.sh (sourced, not run).
# Both run from the workspace root.

# Whether exercise NN-slug is graded by compile-fail cases (its spec has no leak to run).
is_compile_fail() { grep -Eq '^[[:space:]]*grading[[:space:]]*=[[:space:]]*"compile-fail"' "exercises/$1/exercise.toml"; }

# Builds the `spec` test of the given packages in one cargo call; prints "crate-dir<TAB>executable" lines.
# Usage: build_specs [+toolchain] [cargo test options...] -- packages...
build_specs() {
    local -a toolchain=() opts=() pkgs=()
    if [[ $1 == +* ]]; then toolchain=("$1"); shift; fi
    while [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    for p in "$@"; do pkgs+=(-p "$p"); done
    cargo "${toolchain[@]+"${toolchain[@]}"}" test "${opts[@]+"${opts[@]}"}" --no-run --message-format=json-render-diagnostics \
        --test spec "${pkgs[@]}" |
        jq -r 'select(.reason == "compiler-artifact" and .target.name == "spec" and .executable != null)
               | [(.manifest_path | sub("/Cargo.toml$"; "")), .executable] | @tsv'
}
