#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| awsguard_fuzz::skim_json(data));
