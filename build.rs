//! Gives the shared library its ELF SONAME, `libgumbel.so.<major>`, so that a
//! program linked against it records the ABI version it needs rather than the
//! bare `libgumbel.so` (which `make install` lays out as a symlink for the
//! linker only). The major version is Cargo.toml's. Other platforms name their
//! shared libraries otherwise (Mach-O install names, Windows DLLs) and get no
//! link argument.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let elf = matches!(
        os.as_str(),
        "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly"
    );
    if elf {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libgumbel.so.{major}");
    }
}
