//! Builds the edge component (`edge/`) for wasm32-wasip2 so that the harness
//! can serve it (see `nexus-build`). Its path reaches the crate as
//! `NEXUS_EDGE_WASM`; `NEXUS_EDGE_WASM_OVERRIDE` serves another build.

fn main() {
    println!("cargo:rerun-if-env-changed=NEXUS_EDGE_WASM_OVERRIDE");
    let wasm = match std::env::var("NEXUS_EDGE_WASM_OVERRIDE") {
        Ok(path) => path.into(),
        Err(_) => nexus_build::component(
            "nexus-edge",
            &[
                "edge/src",
                "edge/Cargo.toml",
                "guest/store",
                "wit",
                "docs/openapi.json",
            ],
        ),
    };
    println!("cargo:rustc-env=NEXUS_EDGE_WASM={}", wasm.display());
}
