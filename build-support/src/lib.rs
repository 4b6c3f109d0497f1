//! Used by the build scripts of crates that embed or serve one of the
//! workspace's components (`host/` embeds `guest/component`, the edge
//! harness serves `edge/`): builds the component for wasm32-wasip2 with an
//! ordinary nested `cargo build`, so a newcomer never builds a `.wasm` by hand.
//!
//! Every component shares one nested target directory, `<target>/guest`:
//! sharing the outer build's directory would deadlock on its lock, and one
//! directory lets the components reuse each other's compiled dependencies.
//! Two build scripts that run at once simply take turns on that lock.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds `package` (a cdylib of this workspace) for wasm32-wasip2 in
/// release mode and returns the path of `<crate_name>.wasm`. Tells cargo to
/// rebuild when anything under `watched` (paths relative to the workspace
/// root) changes.
pub fn component(package: &str, watched: &[&str]) -> PathBuf {
    let root = workspace_root();
    for path in watched.iter().chain(&["Cargo.lock"]) {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    build(package, &root)
}

/// Builds `package` for wasm32-wasip2 exactly as [`component`] does, without
/// talking to cargo's build-script protocol: for tools outside cargo (the
/// browser package's `npm run build`, through the `nexus-component-wasm`
/// binary), so that they reuse the very artifact the host embeds.
pub fn build(package: &str, root: &Path) -> PathBuf {
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("guest");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--release", "--package", package])
        .args(["--target", "wasm32-wasip2"])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's settings (clippy's wrapper, rustflags meant for the
    // host, its target dir) must not leak into the component build.
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
    // No DWARF in a component: the guest would be 7 MB instead of 1.6 MB
    // (chrono-tz's time-zone tables make the line tables large), and wasmtime
    // names guest frames from the name section anyway.
    cmd.env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    // One codegen unit with LTO lets the store logic, the bindings' glue and
    // std inline into each other: 10% fewer instructions per GET through the
    // component (callgrind, docs/benchmarks.md), for about a minute more
    // build time.
    cmd.env("CARGO_PROFILE_RELEASE_LTO", "fat");
    cmd.env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1");
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("failed to run cargo to build {package}: {e}"));
    assert!(
        status.success(),
        "building {package} for wasm32-wasip2 failed; is the target installed? \
         (rustup target add wasm32-wasip2)"
    );
    let wasm = target_dir
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", package.replace('-', "_")));
    assert!(
        wasm.exists(),
        "{package}'s build produced no {}",
        wasm.display()
    );
    wasm
}

/// The workspace root: the nearest ancestor of the calling crate's manifest
/// directory that holds `Cargo.lock`.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(
        env::var("CARGO_MANIFEST_DIR").expect("run by cargo: a build script, or `cargo run`"),
    );
    manifest_dir
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").exists())
        .map(Path::to_path_buf)
        .expect("the crate sits inside the workspace")
}
