//! Fuzz target `portal_bodies`: see `partlogic_server::fuzzing::portal_bodies` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| partlogic_server::fuzzing::portal_bodies(data));
