//! Compiles the C event bus in `c/` with the `cc` crate and links it into this crate.
//!
//! The C code allocates through leaklab (`leaklab.h`), so its leaks appear in leaklab's reports. leaklab's
//! build script tells this one where the header is, as `DEP_LEAKLAB_INCLUDE`. Needs a C compiler (gcc or
//! clang).

fn main() {
    println!("cargo::rerun-if-changed=c");
    let leaklab_include = std::env::var("DEP_LEAKLAB_INCLUDE")
        .expect("leaklab is a [dependencies] entry, so cargo sets DEP_LEAKLAB_INCLUDE");
    cc::Build::new().file("c/bus.c").include(leaklab_include).compile("bus");
}
