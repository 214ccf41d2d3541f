//! The `hookgate` command line.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hookgate::config::{Config, Limits, Secret};
use hookgate::ingress::verify::{self, Scheme};
use hookgate::outcome::PluginRequest;
use hookgate::runtime::Runtime;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Parser)]
#[command(
    name = "hookgate",
    version,
    about = "A webhook gateway whose payload formats are sandboxed WebAssembly plugins"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve webhooks (defaults: 127.0.0.1:8080, plugins from ./plugins.d).
    Serve {
        /// TOML config file.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Address to listen on (overrides server.listen).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Plugins folder (overrides server.plugins_dir).
        #[arg(long)]
        plugins: Option<PathBuf>,
    },
    /// Work with a plugin file offline.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Print the signature header a sender should send with FILE's bytes.
    Sign {
        /// Environment variable holding the secret.
        #[arg(long)]
        secret_env: String,
        /// Signature scheme.
        #[arg(long, default_value = "hub-sha256")]
        scheme: Scheme,
        /// The exact body the sender will send.
        file: PathBuf,
    },
    /// Check a config file and exit.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Print a plugin's manifest and sha256 as JSON.
    Inspect {
        /// The `.wasm` file.
        file: PathBuf,
    },
    /// Run one request through a plugin, with no server and no signature check, and print
    /// the outcome as JSON.
    Run {
        /// The `.wasm` file.
        file: PathBuf,
        /// A request header, `Name: value` (repeatable).
        #[arg(long = "header", short = 'H')]
        headers: Vec<String>,
        /// The body: text, or `@path` to read a file.
        #[arg(long, default_value = "")]
        body: String,
        /// Request path (default `/hooks/<plugin>`).
        #[arg(long)]
        path: Option<String>,
        /// An operator setting, `key=value` (repeatable).
        #[arg(long = "setting")]
        settings: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Parse and validate FILE, reading its secrets.
    Check {
        /// The TOML file.
        file: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(Cli::parse())) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `RUST_LOG` wins; otherwise `LOG_LEVEL` (DEBUG, INFO, WARNING, ERROR, as Pelorus reads it).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let level = match std::env::var("LOG_LEVEL")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "trace" => "trace",
            "debug" => "debug",
            "warning" | "warn" => "warn",
            "error" => "error",
            _ => "info",
        };
        EnvFilter::new(format!("{level},wasmtime=warn,cranelift=warn"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            config,
            listen,
            plugins,
        } => {
            let mut loaded = match &config {
                Some(path) => Config::load(path)?,
                None => Config::default(),
            };
            let overridden = listen.is_some() || plugins.is_some();
            if let Some(listen) = listen {
                loaded.server.listen = listen;
            }
            if let Some(plugins) = plugins {
                loaded.server.plugins_dir = plugins;
            }
            if config.is_some() && overridden {
                tracing::warn!(
                    "--listen/--plugins override the config file; a reload of the file does not change them back"
                );
            }
            hookgate::app::serve(loaded, config).await
        }
        Command::Plugin {
            command: PluginCommand::Inspect { file },
        } => {
            let wasm =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let runtime = Runtime::new()?;
            let plugin = runtime.load(&wasm, &Limits::default()).await?;
            // The same fields `GET /-/plugins` shows for a loaded plugin, plus the manifest.
            let m = &plugin.manifest;
            let out = json!({
                "name": m.name,
                "version": m.version,
                "file": file,
                "sha256": hex::encode(Sha256::digest(&wasm)),
                "routes": { "paths": m.paths, "user_agent_prefixes": m.user_agent_prefixes, "hooks": format!("/hooks/{}", m.name) },
                "scheme": m.scheme,
                "manifest": m,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(())
        }
        Command::Plugin {
            command:
                PluginCommand::Run {
                    file,
                    headers,
                    body,
                    path,
                    settings,
                },
        } => plugin_run(file, headers, body, path, settings).await,
        Command::Sign {
            secret_env,
            scheme,
            file,
        } => {
            let secret = std::env::var(&secret_env)
                .with_context(|| format!("environment variable {secret_env} is not set"))?;
            let body =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            match verify::sign(scheme, &Secret::new(secret), &body) {
                Some((name, value)) => println!("{}: {value}", display_header(name)),
                None => bail!("scheme {scheme} has no signature"),
            }
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check { file },
        } => {
            let config = Config::load(&file)?;
            for name in config.plugins.keys() {
                config.policy(name)?;
            }
            println!("{}: ok", file.display());
            Ok(())
        }
    }
}

async fn plugin_run(
    file: PathBuf,
    headers: Vec<String>,
    body: String,
    path: Option<String>,
    settings: Vec<String>,
) -> anyhow::Result<()> {
    let wasm = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let body = match body.strip_prefix('@') {
        Some(path) => std::fs::read(path).with_context(|| format!("reading body file {path}"))?,
        None => body.into_bytes(),
    };
    let headers = headers
        .iter()
        .map(|h| {
            let (k, v) = h
                .split_once(':')
                .with_context(|| format!("header {h:?} is not `Name: value`"))?;
            Ok((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let settings = settings
        .iter()
        .map(|s| {
            let (k, v) = s
                .split_once('=')
                .with_context(|| format!("setting {s:?} is not `key=value`"))?;
            Ok((k.to_string(), v.to_string()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let runtime = Runtime::new()?;
    let limits = Limits::default();
    let plugin = runtime.load(&wasm, &limits).await?;
    let request = PluginRequest {
        method: "POST".into(),
        path: path.unwrap_or_else(|| format!("/hooks/{}", plugin.manifest.name)),
        query: String::new(),
        headers,
        body: body.into(),
        received_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        settings,
    };
    let mut call = runtime.start(&plugin, &limits).await?;
    let out = match call.handle(&request).await? {
        Ok(outcome) => json!({
            "accepted": true,
            "status": outcome.response.status,
            "headers": outcome.response.headers,
            "body": String::from_utf8_lossy(&outcome.response.body),
            "samples": outcome.samples.iter().map(|s| json!({
                "family": s.family, "label_values": s.label_values, "op": format!("{:?}", s.op),
            })).collect::<Vec<_>>(),
            "deliveries": outcome.deliveries.iter().map(|d| json!({
                "event_type": d.event_type, "target": d.target,
                "body": String::from_utf8_lossy(&d.body), "headers": d.headers,
                "idempotency_key": d.idempotency_key,
            })).collect::<Vec<_>>(),
        }),
        Err(r) => json!({
            "accepted": false,
            "status": r.status,
            "message": r.message,
            "body": r.body.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()),
        }),
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// `x-hub-signature-256` -> `X-Hub-Signature-256`.
fn display_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}
