use std::process::ExitCode;

// Burn allocates and frees large activations on every forward pass; the system allocator
// hands them back to the kernel and page-faults them in again (~5-8% of CPU inference).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    trainer::cli::main()
}
