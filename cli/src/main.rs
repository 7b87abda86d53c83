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

fn main() {
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
