//! Replays every saved fuzz corpus input (`fuzz/corpus/<target>/`) through the same functions the
//! cargo-fuzz targets run, on stable: crashes found by fuzzing stay fixed, and the targets keep
//! compiling against the library.

#[path = "../fuzz/src/lib.rs"]
mod targets;

#[test]
fn every_saved_fuzz_input_runs_without_a_panic() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (name, run) in targets::TARGETS {
        let dir = root.join(name);
        let mut inputs = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            run(&data);
            inputs += 1;
        }
        assert!(inputs > 0, "no corpus for {name}");
    }
}
