#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| awsguard_fuzz::decode_gzip(data));
