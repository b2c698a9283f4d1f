use std::process::ExitCode;

// Burn allocates and frees large activations on every forward pass; the system allocator
// hands them back to the kernel and page-faults them in again (~5-8% of CPU inference).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    #[cfg(target_os = "linux")]
    ensure_runtime_dir();
    trainer::cli::main()
}
