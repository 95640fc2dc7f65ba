//! The `grantd` binary: parse the command line and hand over to the library.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let cli = grantd::cli::Cli::parse();
    grantd::cli::run(cli)
}
