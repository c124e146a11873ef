//! The `punctual` command: parses arguments, calls [`punctual::app`], and prints the result or the error.
//!
//! Exit codes: 0 success, 2 bad input (any error whose code is a validation or not-found code, and clap's
//! usage errors), 1 anything else. With `--json`, results go to stdout as JSON and errors to stderr as
//! `{"error":{"code":..,"message":..,"field":..}}`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
