//! Bench-only: the floor of a GET through jco. One export, `get(key)`,
//! calls one import, `storage.get(key)`, and answers what it got: no
//! namespace, no key encoding, no entry header, no hit counting, no error
//! variant. `web/bench/` transpiles it with the same jco and options as the
//! nexus component and runs both over the same JavaScript storage, so the
//! distance between them is what nexus adds to a call through jco.

// wit-bindgen's glue lifts and lowers values through raw pointers into
// linear memory: generated unsafe code, the only unsafe code of this crate.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        world: "floor",
        path: "wit",
    });
}

use bindings::nexus::floor::storage;

struct Floor;

impl bindings::Guest for Floor {
    fn get(key: Vec<u8>) -> Option<Vec<u8>> {
        storage::get(&key)
    }
}

/// The export's C ABI entry point, generated (unsafe) like the bindings.
#[allow(unsafe_code)]
mod export {
    use crate::Floor;
    crate::bindings::export!(Floor with_types_in crate::bindings);
}
