//! Fuzz target `url_decoder`: see `partlogic_server::fuzzing::url_decoder` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| partlogic_server::fuzzing::url_decoder(data));
