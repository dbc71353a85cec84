//! The `atelier` binary: parses the command line and runs the server.

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Atelier: real-time whiteboards for co-design workshops, self-hosted.
#[derive(Debug, Parser)]
#[command(name = "atelier", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (embedded SQLite under ./atelier-data unless DATABASE_URL is set).
    Serve(atelier::ServeConfig),
    /// Operator commands on the database; each prints one JSON object.
    Admin {
        #[command(flatten)]
        db: atelier::DbConfig,
        #[command(subcommand)]
        command: Admin,
    },
}

#[derive(Debug, Subcommand)]
enum Admin {
    /// Create an organisation and its first admin account.
    CreateTenant {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        /// At least 10 characters. Prefer the environment variable to keep it out of shell history.
        #[arg(long, env = "ATELIER_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: String,
    },
    /// Create an account in an organisation.
    CreateUser {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long, env = "ATELIER_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        display_name: String,
        /// admin or member.
        #[arg(long, default_value = "member", value_parser = ["admin", "member"])]
        role: String,
    },
    /// Issue a bearer token for an account (no password needed: this is the operator).
    CreateToken {
        #[arg(long)]
        email: String,
        /// Lifetime of the token.
        #[arg(long, default_value_t = 7 * 24 * 3600)]
        ttl_secs: u64,
    },
    /// Revoke every token of an account; a running server closes its connections within seconds.
    RevokeTokens {
        #[arg(long)]
        email: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("atelier: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(config) => serve(config).await,
            Command::Admin { db, command } => admin(db, command).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("atelier: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(config: atelier::ServeConfig) -> anyhow::Result<()> {
    let listener = atelier::listen(config.listen)?;
    let addr = listener.local_addr()?;
    // The first line on stdout, for scripts and tests that listen on port 0.
    println!("listening on http://{addr}");
    tracing::info!(%addr, "listening");
    let shutdown = CancellationToken::new();
    if let Some(metrics) = config.metrics_listen {
        // Installed before the server starts, so that its gauges count from the beginning.
        let handle = atelier::telemetry::install().map_err(anyhow::Error::msg)?;
        let listener = atelier::listen(metrics)?;
        let addr = listener.local_addr()?;
        println!("metrics on http://{addr}/metrics");
        tracing::info!(%addr, "metrics listening");
        tokio::spawn(atelier::telemetry::serve(listener, handle, shutdown.clone()));
    }
    tokio::spawn(signals(shutdown.clone()));
    atelier::run(config, listener, shutdown).await?;
    Ok(())
}

async fn admin(db: atelier::DbConfig, command: Admin) -> anyhow::Result<()> {
    use atelier::admin;
    let db = db.open().await?;
    let out = match command {
        Admin::CreateTenant { name, admin_email, admin_password } => {
            admin::create_tenant(db.as_ref(), &name, &admin_email, &admin_password).await?
        }
        Admin::CreateUser { tenant, email, password, display_name, role } => {
            let role =
                atelier::tenancy::TenantRole::parse(&role).unwrap_or(atelier::tenancy::TenantRole::Member);
            admin::create_user(db.as_ref(), &tenant, &email, &password, &display_name, role).await?
        }
        Admin::CreateToken { email, ttl_secs } => admin::create_token(db.as_ref(), &email, ttl_secs).await?,
        Admin::RevokeTokens { email } => admin::revoke_tokens(db.as_ref(), &email).await?,
    };
    db.close().await;
    println!("{out}");
    Ok(())
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM.
async fn signals(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                let _ = ctrl_c.await;
                shutdown.cancel();
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown requested");
    shutdown.cancel();
}

fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("ATELIER_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
