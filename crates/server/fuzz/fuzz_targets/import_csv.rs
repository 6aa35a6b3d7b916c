//! Fuzz target `import_csv`: see `partlogic_server::fuzzing::import_csv` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| partlogic_server::fuzzing::import_csv(data));
