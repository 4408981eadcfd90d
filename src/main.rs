use clap::Parser;

// Blocks of input come and go by the megabyte: mimalloc keeps them instead of returning
// them to the system (and faulting them in again) each time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Mesa's drivers complain on stderr when this is unset; give them a usual place.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    // Ctrl-C or SIGTERM: delete the output's temporary file (no partial output), exit 130.
    let _ = ctrlc::set_handler(|| {
        rso::io::sink::remove_pending();
        eprintln!("rso: interrupted; no output written");
        std::process::exit(130);
    });
    let cli = rso::cli::Cli::parse();
    if let Err(err) = rso::cli::run(cli) {
        if err.is_broken_pipe() {
            std::process::exit(0);
        }
        eprintln!("rso: error: {err}");
        std::process::exit(err.exit_code());
    }
}
