//! Builds the guest component (`guest/component`) for wasm32-wasip2 so that
//! the host can embed it: a newcomer never builds the `.wasm` by hand.
//!
//! The nested cargo uses its own target directory (`<target>/guest`): sharing
//! the outer build's directory would deadlock on its lock. The path of the
//! result reaches the crate as `NEXUS_GUEST_WASM`.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace root")
        .to_path_buf();
    for watched in ["guest", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=NEXUS_GUEST_WASM_OVERRIDE");
    if let Ok(path) = env::var("NEXUS_GUEST_WASM_OVERRIDE") {
        println!("cargo:rustc-env=NEXUS_GUEST_WASM={path}");
        return;
    }

    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("guest");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args([
            "build",
            "--release",
            "--package",
            "nexus-component",
            "--target",
            "wasm32-wasip2",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's settings (clippy's wrapper, rustflags meant for the
    // host, its target dir) must not leak into the guest build.
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    // No DWARF in the embedded component: it would be 7 MB instead of 1.6 MB
    // (chrono-tz's time-zone tables make the line tables large), and wasmtime
    // names guest frames from the name section anyway.
    cmd.env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    // One codegen unit with LTO lets the store logic, wit-bindgen's glue and
    // std inline into each other: 10% fewer instructions per GET through the
    // component (callgrind, docs/benchmarks.md), for about a minute more
    // build time of the guest.
    cmd.env("CARGO_PROFILE_RELEASE_LTO", "fat");
    cmd.env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1");
    let status = cmd
        .status()
        .expect("failed to run cargo to build the guest component");
    assert!(
        status.success(),
        "building the guest component failed; is the wasm32-wasip2 target installed? \
         (rustup target add wasm32-wasip2)"
    );
    let wasm = target_dir.join("wasm32-wasip2/release/nexus_component.wasm");
    assert!(wasm.exists(), "guest build produced no {}", wasm.display());
    println!("cargo:rustc-env=NEXUS_GUEST_WASM={}", wasm.display());
}
