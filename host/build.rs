//! Builds the guest component (`guest/component`) for wasm32-wasip2 so that
//! the host can embed it (see `nexus-build`). Its path reaches the crate as
//! `NEXUS_GUEST_WASM`; `NEXUS_GUEST_WASM_OVERRIDE` embeds another build.

fn main() {
    println!("cargo:rerun-if-env-changed=NEXUS_GUEST_WASM_OVERRIDE");
    let wasm = match std::env::var("NEXUS_GUEST_WASM_OVERRIDE") {
        Ok(path) => path.into(),
        Err(_) => nexus_build::component(
            "nexus-component",
            // docs/openapi.json is compiled into the guest (served at /openapi.json).
            &["guest", "wit", "docs/openapi.json"],
        ),
    };
    println!("cargo:rustc-env=NEXUS_GUEST_WASM={}", wasm.display());
}
