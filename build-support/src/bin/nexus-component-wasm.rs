//! Builds a component of this workspace (default: the guest, `nexus-component`)
//! and prints the path of its `.wasm`, for tools that are not cargo build
//! scripts: `web/`'s `npm run build` runs
//! `cargo run -q -p nexus-build --bin nexus-component-wasm`.
//! Progress goes to stderr, the path alone to stdout.

fn main() {
    let package = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "nexus-component".into());
    let wasm = nexus_build::build(&package, &nexus_build::workspace_root());
    println!("{}", wasm.display());
}
