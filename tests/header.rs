//! The committed header must be exactly what cbindgen generates from src/ffi.
//! `GUMBEL_BLESS=1 cargo test --release --test integration header::` (or
//! `make header`) rewrites it.

use std::path::Path;

#[test]
fn header_matches_cbindgen_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_src(root.join("src/ffi/mod.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen fails on src/ffi")
        .write(&mut generated);
    let path = root.join("include/gumbel.h");
    if std::env::var_os("GUMBEL_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/gumbel.h");
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/gumbel.h is stale: run `make header` and commit the result"
    );
}
