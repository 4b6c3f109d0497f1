#![no_main]
//! See nexus_store::fuzz::key_codec.

libfuzzer_sys::fuzz_target!(|data: &[u8]| nexus_store::fuzz::key_codec(data));
