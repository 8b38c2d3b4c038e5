//! `bindings/include/tessera.h` is generated from `src/capi.rs` by cbindgen; this test
//! regenerates it and fails if the committed header differs (run with `TESSERA_BLESS=1`
//! to rewrite it), so the header cannot drift from the code.

use std::path::Path;

fn generate() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config {
        language: cbindgen::Language::C,
        header: Some(
            "/* Tessera's native C API: tile matrices, tiled and asynchronous factorizations.\n * \
             Generated from bindings/src/capi.rs by cbindgen (checked by bindings/tests/header.rs); \
             do not edit.\n * LAPACK's own symbols (dgesv_, LAPACKE_dgesv, ...) are declared by \
             the usual lapack.h / lapacke.h. */"
                .to_string(),
        ),
        include_guard: Some("TESSERA_H".to_string()),
        cpp_compat: true,
        style: cbindgen::Style::Both,
        documentation: true,
        usize_is_size_t: true,
        export: cbindgen::ExportConfig {
            // Constants of the LAPACK layers (their C names come from lapack.h/lapacke.h).
            exclude: vec!["INFO_INTERNAL".into(), "ROW_MAJOR".into(), "COL_MAJOR".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen failed on the bindings crate")
        .write(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn header_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/tessera.h");
    let want = generate();
    if std::env::var_os("TESSERA_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date with src/capi.rs: regenerate it with \
         `TESSERA_BLESS=1 cargo test -p tessera-lapack --test header`",
        path.display()
    );
}
