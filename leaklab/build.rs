//! Tells the build scripts of crates that depend on leaklab where `leaklab.h` is.
//!
//! With `links = "leaklab"` in Cargo.toml, cargo hands the `include` value below to every direct dependent's
//! build script as `DEP_LEAKLAB_INCLUDE`, so C code compiled there with the `cc` crate can
//! `#include "leaklab.h"` wherever the crates live.

fn main() {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = std::path::Path::new(&manifest_dir).join("include");
    println!("cargo::metadata=include={}", dir.display());
    println!("cargo::rerun-if-changed=build.rs");
}
