//! `deploy-gate serve --config PATH [--listen ADDR:PORT]`

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use crate::config::{self, LogFormat};
use crate::http::{Application, Launch};

pub fn run(path: &Path, listen: Option<SocketAddr>) -> ExitCode {
    let env = super::environment();
    let config = match config::load(path, &env) {
        Ok(c) => c,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            let count = super::validate::counted(problems.len(), "problem");
            eprintln!("deploy-gate: refusing to start: {count} in {}", path.display());
            return ExitCode::from(1);
        }
    };
    init_logging(config.settings.log_format);
    let launch = Launch { config_path: path.to_path_buf(), env, listen };
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config, launch).await?;
        tracing::info!(port = app.port(), config = %path.display(), "deploy-gate is listening");
        app.run_until_stopped().await?;
        anyhow::Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("deploy-gate: {e:#}");
            ExitCode::from(1)
        }
    }
}

pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a person at a terminal, never into files or pipelines.
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
