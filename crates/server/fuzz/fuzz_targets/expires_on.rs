//! Fuzz target `expires_on`: see `partlogic_server::fuzzing::expires_on` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| partlogic_server::fuzzing::expires_on(data));
