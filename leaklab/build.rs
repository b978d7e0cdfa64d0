//! Build-time facts leaklab needs.
//!
//! - Where `leaklab.h` is: with `links = "leaklab"` in Cargo.toml, cargo hands the `include` value below to
//!   every direct dependent's build script as `DEP_LEAKLAB_INCLUDE`, so C code compiled there with the `cc`
//!   crate can `#include "leaklab.h"` wherever the crates live.
//! - Whether allocation sites can be captured by walking frame pointers (`cfg(leaklab_frame_pointers)`, see
//!   src/unwind.rs): on x86-64 Linux, when the program is built with `-C force-frame-pointers` (in the flags
//!   cargo passes to every crate). Otherwise sites use the slower DWARF unwinder.

fn main() {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = std::path::Path::new(&manifest_dir).join("include");
    println!("cargo::metadata=include={}", dir.display());
    println!("cargo::rerun-if-changed=build.rs");

    println!("cargo::rustc-check-cfg=cfg(leaklab_frame_pointers)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let target = |key: &str| std::env::var(key).unwrap_or_default();
    let walkable = target("CARGO_CFG_TARGET_ARCH") == "x86_64" && target("CARGO_CFG_TARGET_OS") == "linux";
    if walkable && forces_frame_pointers(flags.split('\x1f')) {
        println!("cargo::rustc-cfg=leaklab_frame_pointers");
    }
}

/// Whether the last `force-frame-pointers` codegen option among `flags` turns them on, written as
/// `-Cforce-frame-pointers[=v]`, `-C force-frame-pointers[=v]` or `--codegen force-frame-pointers[=v]`.
fn forces_frame_pointers<'a>(flags: impl Iterator<Item = &'a str>) -> bool {
    let mut on = false;
    let mut after_c = false;
    for flag in flags {
        let option = match flag.strip_prefix("-C") {
            Some("") => {
                after_c = true;
                continue;
            }
            Some(rest) => rest,
            None if after_c => flag,
            None if flag == "--codegen" => {
                after_c = true;
                continue;
            }
            None => flag.strip_prefix("--codegen=").unwrap_or(""),
        };
        after_c = false;
        if let Some(value) = option.strip_prefix("force-frame-pointers") {
            on = matches!(value, "" | "=yes" | "=y" | "=on" | "=true" | "=always" | "=non-leaf");
        }
    }
    on
}
