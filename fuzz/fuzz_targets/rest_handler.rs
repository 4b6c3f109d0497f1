#![no_main]
//! See nexus_store::fuzz::rest_handler.

libfuzzer_sys::fuzz_target!(|data: &[u8]| nexus_store::fuzz::rest_handler(data));
