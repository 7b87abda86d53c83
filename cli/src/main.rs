//! The `junction` binary.

mod cli;
mod govcli;
mod send;

use clap::Parser;

/// mimalloc, built without transparent huge pages. Under load a validator allocates and
/// frees block-sized buffers every height: glibc's arenas kept the freed pages and the
/// resident size grew with the packets a node had seen; mimalloc with huge pages spent a
/// quarter of the CPU zeroing fresh 2 MiB pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long freed memory stays with the allocator before it goes back to the kernel.
/// A validator frees and allocates block-sized buffers every height (~0.5 s under load):
/// with mimalloc's 1 s, memory went back and was faulted in and zeroed again, and page
/// faults were a tenth of a validator's CPU at 100,000 logged packets (`bench hub`).
/// 10 s, jemalloc's default decay, keeps what recent heights used; memory unused for
/// longer still goes back. `MIMALLOC_PURGE_DELAY` set by the operator wins.
const ALLOCATOR_PURGE_DELAY_MS: std::ffi::c_long = 10_000;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (the sys crate names no constant
/// for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

#[allow(unsafe_code)]
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option of the allocator this binary links; mimalloc
        // reads options atomically, and the option index is from the linked version's
        // header.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, ALLOCATOR_PURGE_DELAY_MS) };
    }
}

fn main() {
    tune_allocator();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,junction_hub=info,junction_relayer=info,junction_devtools=info,junction_cli=info",
        )
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(cli::run(cli)) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
