//! The built edge component fits what a Spin 3.6 host offers: Spin's
//! `spin:up/platform@3.6.0` world (vendored in `wit/`) plus the HTTP
//! handler export, checked with wasm-tools' own `targets`, which validates
//! that the component could be instantiated against that world's type.
//!
//! Spin links WASI semver-compatibly (a component built against
//! `wasi:http@0.2.0` runs on a host of 0.2.6), and wasm-component-ld merges
//! a component's imports up the same way, so the world's imports are merged
//! to the newest patch release of each interface before the check, as
//! `wasm-tools component targets` does not. The check is otherwise exact:
//! an import outside the world fails it.

mod common;

use common::{component_of, resolve_with};
use wit_parser::{Resolve, WorldId};

/// The `wasi:http/incoming-handler` releases a Spin 3.6 host serves that
/// the vendored WIT knows. spin-sdk 5 exports 0.2.0.
const HANDLER_VERSIONS: [&str; 2] = ["0.2.6", "0.2.0"];

/// `spin:up/platform@3.6.0` exporting the handler at `version`, imports
/// merged across semver-compatible releases.
fn spin_http_world(version: &str) -> (Resolve, WorldId) {
    let (mut resolve, package) = resolve_with(&format!(
        "package nexus:edge-check;
         world spin-http {{
             include spin:up/platform@3.6.0;
             export wasi:http/incoming-handler@{version};
         }}"
    ));
    let world = resolve.select_world(&[package], Some("spin-http")).unwrap();
    resolve
        .merge_world_imports_based_on_semver(world)
        .expect("Spin's WASI releases are semver-compatible");
    (resolve, world)
}

/// `Ok` when `component` fits the Spin HTTP world at some handler release;
/// otherwise why it fits none.
fn fits_spin(component: &[u8]) -> Result<(), String> {
    let mut reasons = Vec::new();
    for version in HANDLER_VERSIONS {
        let (resolve, world) = spin_http_world(version);
        match wit_component::targets(&resolve, world, component) {
            Ok(()) => return Ok(()),
            Err(e) => reasons.push(format!("exporting incoming-handler@{version}: {e:#}")),
        }
    }
    Err(reasons.join("\n"))
}

#[test]
fn the_edge_component_fits_spins_platform_world() {
    let bytes = std::fs::read(nexus_edge_harness::EDGE_WASM).expect("the edge component was built");
    if let Err(reasons) = fits_spin(&bytes) {
        panic!(
            "{} does not fit spin:up/platform@3.6.0 + wasi:http/incoming-handler:\n{reasons}",
            nexus_edge_harness::EDGE_WASM
        );
    }
}

#[test]
fn a_component_importing_only_sqlite_and_wasi_fits() {
    // The control for the next test: the check accepts a component built
    // from a world within Spin's.
    let component = component_of(
        "package test:inside;
         world inside {
             import spin:sqlite/sqlite@3.0.0;
             import wasi:clocks/wall-clock@0.2.6;
             export wasi:http/incoming-handler@0.2.6;
         }",
        "inside",
    );
    fits_spin(&component).unwrap();
}

#[test]
fn a_component_importing_what_spin_lacks_does_not_fit() {
    // The nexus store component's own storage interface: a host of the
    // wasmtime embedding, not of Spin.
    let component = component_of(
        "package test:outside;
         world outside {
             import spin:sqlite/sqlite@3.0.0;
             import nexus:store/storage@0.1.0;
             export wasi:http/incoming-handler@0.2.6;
         }",
        "outside",
    );
    let reasons = fits_spin(&component).expect_err("nexus:store/storage is no Spin import");
    assert!(reasons.contains("nexus:store/storage@0.1.0"), "{reasons}");
}
