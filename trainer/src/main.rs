use std::process::ExitCode;

// Burn allocates and frees large activations on every forward pass; the system allocator
// hands them back to the kernel and page-faults them in again (~5-8% of CPU inference).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the same index in mimalloc 2 and 3; the Rust
/// binding has no name for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory committed instead of purging it after mimalloc's default 10 ms:
/// one operation on large activations often outlasts that delay, so the next step's
/// buffers were page-faulted and zeroed by the kernel again (18 % of a CPU distillation
/// step in `perf`; the step is ~15 % faster without it). The process keeps its peak
/// working set, which a training run reaches every step anyway.
/// `MIMALLOC_PURGE_DELAY` in the environment still wins.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an allocator option; called first thing in main, before other threads.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

/// Probing for a GPU (`--backend auto`) loads the system's graphics libraries, which print
/// "XDG_RUNTIME_DIR is invalid or not set" on machines without a desktop session (servers,
/// containers, CI). A private runtime folder keeps that noise out of the output.
#[cfg(target_os = "linux")]
fn ensure_runtime_dir() {
    use std::os::unix::fs::DirBuilderExt;
    if std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).is_dir()) {
        return;
    }
    let dir = std::env::temp_dir().join("hatfas-trainer-runtime");
    let made = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    if made.is_ok() || dir.is_dir() {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    #[cfg(target_os = "linux")]
    ensure_runtime_dir();
    trainer::cli::main()
}
