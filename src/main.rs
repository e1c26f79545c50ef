//! The `awsguard` binary: the allocator, then [`cli::main`]. Everything else is in `src/cli/`
//! (argument parsing and the console) and the library.

mod cli;

/// A proxy allocates and frees many small buffers per call (headers, TLS records, events);
/// mimalloc's thread-local free lists do that in a fraction of glibc malloc's instructions.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hands the pages freed while the detectors loaded their data (phone metadata: ~3.5 MiB of
/// temporaries) back to the OS. mimalloc keeps freed pages until later allocations purge them,
/// and an idle proxy makes none, so without this they would count in its idle memory.
fn release_freed_memory() {
    // SAFETY: `mi_collect` only walks mimalloc's own heaps and may be called from any thread at
    // any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

fn main() -> std::process::ExitCode {
    cli::main(release_freed_memory)
}
