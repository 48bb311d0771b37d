//! Links the image with footprint/link.ld (one memory layout for every target: only section
//! sizes matter, and on Cortex-M it is QEMU mps2-an386's: code at 0, RAM at 0x2000_0000).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
    println!("cargo:rustc-link-arg-bins=--gc-sections");
}
