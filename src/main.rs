use clap::Parser;

fn main() {
    let cli = rso::cli::Cli::parse();
    if let Err(err) = rso::cli::run(cli) {
        eprintln!("rso: error: {err}");
        std::process::exit(err.exit_code());
    }
}
