// Strips DWARF from the wasm module: Debian's prebuilt wasm32 std carries about 5 MB of debug sections that the
// plugin would otherwise ship and compile at every load.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=--strip-debug");
    }
}
