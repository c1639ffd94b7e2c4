//! `hposim`: compare hyperparameter-optimization strategies on simulated learning curves. The
//! command line lives in the library ([`hposim_cli::main_with_args`]), which the Python
//! package's `hposim` command runs too.

use std::process::ExitCode;

fn main() -> ExitCode {
    hposim_cli::main_with_args(std::env::args_os())
}
