//! The `grantd` binary: parse the command line and hand over to the library.

use clap::Parser as _;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = grantd::cli::Cli::parse();
    grantd::cli::run(cli)
}
