//! `partlogic`: the PartLogic portal server and its admin commands (see [`partlogic_server::cli`]).

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    partlogic_server::cli::main().await
}
