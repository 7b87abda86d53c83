//! The `junction` binary.

mod cli;
mod genesis_cli;
mod govcli;
mod send;

use clap::Parser;

/// jemalloc. A validator allocates and frees block-sized buffers every height, among
/// smaller objects that live longer (store cache pages, a block's tree update, pending
/// transactions). Under `bench hub` glibc's arenas kept freed pages and the resident size
/// grew with the packets a node had seen; mimalloc's grew too: 12 s after the load, a
/// validator held 55-90 % more after 100,000 logged packets than after 10,000, where
/// jemalloc's stayed within 10 %, at half the size, for a few percent more CPU. Its
/// defaults give freed memory back after about 10 s (`dirty_decay_ms`); operators tune it
/// through `_RJEM_MALLOC_CONF`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,junction_hub=info,junction_relayer=info,junction_adapters=info,junction_devtools=info,junction_cli=info",
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
