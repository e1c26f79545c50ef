#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| awsguard_fuzz::client_hello(data));
