//! Helpers shared by the integration tests: components built from WIT
//! worlds, so a test can make a component with exactly the imports it
//! needs.

#![allow(dead_code)] // each test crate uses its own subset

use std::path::Path;

use wit_component::{ComponentEncoder, StringEncoding, embed_component_metadata};
use wit_parser::{ManglingAndAbi, PackageId, Resolve};

/// Spin's WIT and the nexus WIT (`wit/` of the workspace), plus one package
/// of test worlds, in one `Resolve`.
pub fn resolve_with(test_package: &str) -> (Resolve, PackageId) {
    let mut resolve = Resolve::default();
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
    resolve
        .push_dir(harness.join("wit"))
        .expect("the vendored Spin WIT resolves");
    resolve
        .push_dir(harness.join("../../wit"))
        .expect("the nexus WIT resolves");
    let package = resolve
        .push_str("test-worlds.wit", test_package)
        .expect("the test worlds resolve");
    (resolve, package)
}

/// A component of the world `name` in `package`, with a dummy core module
/// behind it: what a toolchain would build for that world.
pub fn component_of(package: &str, name: &str) -> Vec<u8> {
    let (resolve, pkg) = resolve_with(package);
    let world = resolve.select_world(&[pkg], Some(name)).unwrap();
    let mut module = wit_component::dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8).unwrap();
    ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .unwrap()
        .encode()
        .unwrap()
}
