//! The service's commands: a tokio runtime, logs to stderr, shutdown on SIGINT and SIGTERM.

use std::path::{Path, PathBuf};
use std::time::Duration;

use airprover::relayer::{self, RelaySettings, Relayer};
use airprover::service::code::{Code, ServiceError};
use airprover::service::redis::seal::InputSealing;
use airprover::service::redis::{connect, Keys, RedisTls, RedisUrl, Tasks};
use airprover::service::signature::PinnedWorkers;
use airprover::service::{client, http, sealing_key, worker};
use std::process::ExitCode;

use crate::command::{DeadLetters, LogFormat, ProcessArgs, RedisArgs};

use airprover::{Error, Result};
use tokio::sync::watch;

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io {
            path: "runtime".into(),
            what: e.to_string(),
        })
}

/// Logs to stderr, as text or one JSON object a line: `RUST_LOG` (default: `info` for the
/// service, the relayer, the commands and the request log, `warn` elsewhere). Colours only on a
/// terminal: a log file or the journal gets plain text. arkworks' constraint spans (target
/// `r1cs`) are always off: every gadget enters one and never leaves it, and a subscriber that
/// records them makes synthesis a thousand times slower (measured: 334 s instead of 0.3 s for
/// threshold-d4-k2).
fn logs(format: LogFormat) {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        "warn,airprover::service=info,airprover::relayer=info,airprover::command=info,\
         tower_http=info"
            .into()
    });
    for target in ["r1cs", "ark_relations", "ark_r1cs_std", "ark_groth16"] {
        filter = filter.add_directive(format!("{target}=off").parse().expect("a valid directive"));
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        // The event's fields at the top level, beside the request span's (method, path).
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// What `--check-config` found: printed, one line a setting, never a secret.
struct Checked {
    command: &'static str,
    lines: Vec<String>,
}

impl Checked {
    fn new(command: &'static str) -> Checked {
        Checked {
            command,
            lines: Vec::new(),
        }
    }

    fn add(&mut self, name: &str, what: impl std::fmt::Display) {
        self.lines.push(format!("  {name}: {what}"));
    }

    fn print(self) {
        println!("airprover {}: configuration OK", self.command);
        for line in self.lines {
            println!("{line}");
        }
    }
}

/// The circuits of a key directory's manifest, each key file present; refused without one
/// (`serve` would accept no circuit, a worker prove none).
fn key_dir(path: &Path) -> Result<Vec<String>> {
    let dir = airprover::prover::key_dir::KeyDir::new(path);
    let manifest = dir.manifest()?.filter(|m| !m.circuits.is_empty());
    let Some(manifest) = manifest else {
        return Err(Error::KeyNotFound {
            what: format!(
                "{}: no manifest.json naming a circuit (make keys with `airprover setup \
                 --circuit ID --out {}`)",
                path.display(),
                path.display()
            ),
        });
    };
    for circuit in &manifest.circuits {
        for file in circuit.files() {
            let file = path.join(&file.name);
            std::fs::File::open(&file).map_err(|e| Error::KeyNotFound {
                what: format!("{} (in the manifest): {}", file.display(), e.kind()),
            })?;
        }
    }
    Ok(manifest.ids())
}

fn sealing_line(sealing: &InputSealing) -> String {
    match sealing {
        InputSealing::Sealed(keys) => {
            format!(
                "current {} (keys {})",
                keys.current_id(),
                keys.ids().join(", ")
            )
        }
        InputSealing::Unsealed => "none: inputs in plain text (development only)".into(),
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: what.into(),
        what: e.to_string(),
    }
}

/// The Redis client of `--redis` (or AIRPROVER_REDIS_URL) or `--redis-file`, with its TLS
/// files; and the URL as every message shows it, password hidden. Nothing connects yet.
/// The key names under `--redis-prefix`.
fn redis_keys(args: &RedisArgs) -> Result<Keys> {
    Keys::new(&args.redis_prefix).map_err(|e| Error::input("redis-prefix", e))
}

fn redis_client(args: &RedisArgs) -> Result<(redis::Client, String)> {
    let url = match (&args.redis, &args.redis_file) {
        (Some(text), None) => RedisUrl::parse(text).map_err(|e| Error::input("redis", e))?,
        (None, Some(path)) => {
            RedisUrl::from_file(path).map_err(|e| Error::input("redis-file", e))?
        }
        // clap refuses both and neither; said again for a caller that did not go through it.
        _ => {
            return Err(Error::input(
                "redis",
                "give one of --redis URL, AIRPROVER_REDIS_URL or --redis-file FILE",
            ))
        }
    };
    let tls = RedisTls {
        ca: args.redis_ca.clone(),
        cert: args.redis_cert.clone(),
        key: args.redis_key.clone(),
    };
    let client = connect::client(&url, &tls).map_err(|e| Error::input("redis", e))?;
    Ok((client, url.to_string()))
}

/// A watch that turns true on SIGINT or SIGTERM.
fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down: finishing what is in hand");
        let _ = tx.send(true);
    });
    rx
}

fn worker_id(given: Option<String>) -> String {
    given.unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
        format!("{host}-{}", std::process::id())
    })
}

pub(crate) struct Serve {
    pub process: ProcessArgs,
    pub redis: RedisArgs,
    pub keys: PathBuf,
    pub listen: String,
    pub api_keys: Option<PathBuf>,
    pub campaigns: Option<PathBuf>,
    pub cors_origins: Vec<String>,
    pub request_timeout: u64,
    pub trust_proxy: bool,
    pub validation_threads: Option<usize>,
    pub validation_queue: Option<usize>,
    pub stream_idle_secs: u64,
    pub max_streams_per_key: usize,
    pub max_streams_per_address: usize,
    pub sealing_key: Option<PathBuf>,
    pub dev_unsealed: bool,
    pub max_body_bytes: usize,
}

/// `--sealing-key FILE`'s keys, or none (plain-text inputs).
fn sealing(path: Option<&Path>) -> Result<InputSealing> {
    sealing_key::sealing(path).map_err(|e| Error::input("sealing-key", e))
}

/// Says at start how task inputs are stored: loudly when in plain text.
fn log_sealing(sealing: &InputSealing) {
    match sealing {
        InputSealing::Sealed(keys) => tracing::info!(
            "task inputs sealed at rest: sealing key {} (keys {})",
            keys.current_id(),
            keys.ids().join(", ")
        ),
        InputSealing::Unsealed => tracing::warn!(
            "no --sealing-key: task inputs, claimants' secrets included, are stored in Redis IN \
             PLAIN TEXT, and kept by its append-only file and snapshots (development only; make \
             a key with `airprover sealing-key new --out FILE`)"
        ),
    }
}

pub(crate) fn serve(args: Serve) -> Result<()> {
    let api_keys = match &args.api_keys {
        Some(path) => http::load_api_keys(path).map_err(|e| Error::input("api-keys", e))?,
        None => Vec::new(),
    };
    // Said here, not by clap: clap would count `AIRPROVER_DEV_UNSEALED=false` as given.
    if args.sealing_key.is_some() && args.dev_unsealed {
        return Err(Error::input(
            "sealing-key",
            "--sealing-key and --dev-unsealed together: give one",
        ));
    }
    // A server with API keys is a real one: it seals, unless told it is a development one.
    if args.api_keys.is_some() && args.sealing_key.is_none() && !args.dev_unsealed {
        return Err(Error::input(
            "sealing-key",
            "--api-keys without --sealing-key would store claimants' secrets in Redis in plain \
             text: make a key with `airprover sealing-key new --out FILE` and pass \
             --sealing-key FILE (or --dev-unsealed, development only)",
        ));
    }
    if !http::MAX_BODY_BYTES_RANGE.contains(&args.max_body_bytes) {
        return Err(Error::input(
            "max-body-bytes",
            format!(
                "{} is out of range ({} to {})",
                args.max_body_bytes,
                http::MAX_BODY_BYTES_RANGE.start(),
                http::MAX_BODY_BYTES_RANGE.end()
            ),
        ));
    }
    let sealing = sealing(args.sealing_key.as_deref())?;
    let (client, shown) = redis_client(&args.redis)?;
    let keys = redis_keys(&args.redis)?;
    if args.process.check_config {
        return check_serve(&args, &api_keys, &sealing, &shown);
    }
    logs(args.process.log_format);
    log_sealing(&sealing);
    http::metrics::recorder();
    runtime()?.block_on(async move {
        let manager = connect::manager(client.clone())
            .await
            .map_err(|e| failed(&shown, e))?;
        Tasks::new(manager.clone(), keys.clone())
            .ensure_groups()
            .await
            .map_err(|e| failed(&shown, e))?;
        // A connection that Redis dropped (a restart) is found by this ping, not by a client's
        // request: the manager reconnects in the background.
        let mut pinger = manager.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let _: redis::RedisResult<String> =
                    redis::cmd("PING").query_async(&mut pinger).await;
            }
        });
        let relayer = match &args.campaigns {
            Some(path) => {
                let settings = RelaySettings {
                    keys: keys.clone(),
                    ..RelaySettings::default()
                };
                Some(connect_relayer(&client, path, settings, false).await?)
            }
            None => None,
        };
        if api_keys.is_empty() {
            tracing::warn!(
                "no --api-keys: the API is open to anyone who reaches it (development only)"
            );
        }
        let router = http::router(
            http::ServeSettings {
                keys: args.keys,
                api_keys,
                cors_origins: args.cors_origins,
                request_timeout: Duration::from_secs(args.request_timeout),
                relayer,
                trust_proxy: args.trust_proxy,
                validation: validation_pool(args.validation_threads, args.validation_queue),
                stream_idle: Duration::from_secs(args.stream_idle_secs),
                max_streams_per_key: args.max_streams_per_key,
                max_streams_per_address: args.max_streams_per_address,
                sealing,
                max_body_bytes: args.max_body_bytes,
            },
            manager,
            client,
            keys,
        )
        .map_err(|e| Error::input("serve", e))?;
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| failed(&args.listen, e))?;
        tracing::info!(
            "airprover serve on http://{}, Redis {shown}",
            listener.local_addr().map_err(|e| failed("listen", e))?
        );
        let mut stop = shutdown_signal();
        let mut stopped = stop.clone();
        let router = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        // SIGTERM: stop accepting, tell every stream to reconnect elsewhere, wait for the
        // connections (and the upgraded WebSockets, which axum does not wait for) to end; at
        // most DRAIN_BOUND after the signal, whatever is still open is dropped.
        let drained = async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                    http::health::begin_drain();
                })
                .await
                .map_err(|e| failed("serve", e))?;
            http::health::streams_closed(http::health::DRAIN_BOUND).await;
            Ok(())
        };
        let bound = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(http::health::DRAIN_BOUND).await;
        };
        tokio::select! {
            done = drained => done,
            () = bound => {
                tracing::warn!(
                    "connections still open {} s after the signal: exiting",
                    http::health::DRAIN_BOUND.as_secs()
                );
                Ok(())
            }
        }
    })
}

/// `serve --check-config`: what `serve` reads before it connects, read and checked.
fn check_serve(
    args: &Serve,
    api_keys: &[http::ApiKey],
    sealing: &InputSealing,
    shown: &str,
) -> Result<()> {
    let mut checked = Checked::new("serve");
    checked.add("redis", shown);
    let circuits = key_dir(&args.keys)?;
    checked.add(
        "keys",
        format!("{} ({})", args.keys.display(), circuits.join(", ")),
    );
    checked.add("max body bytes", args.max_body_bytes);
    let listen = std::net::ToSocketAddrs::to_socket_addrs(&args.listen)
        .map_err(|e| Error::input("listen", format!("{:?}: {e}", args.listen)))?;
    checked.add(
        "listen",
        listen.map(|a| a.to_string()).collect::<Vec<_>>().join(", "),
    );
    match &args.api_keys {
        Some(path) => checked.add(
            "api keys",
            format!("{} ({} keys)", path.display(), api_keys.len()),
        ),
        None => checked.add("api keys", "none: the API is open (development only)"),
    }
    checked.add("sealing key", sealing_line(sealing));
    for origin in &args.cors_origins {
        let url = reqwest::Url::parse(origin)
            .ok()
            .filter(|u| u.origin().ascii_serialization() == origin.trim_end_matches('/'));
        if url.is_none() {
            return Err(Error::input(
                "cors-origin",
                format!("{origin:?} is not an origin (scheme://host[:port])"),
            ));
        }
    }
    if !args.cors_origins.is_empty() {
        checked.add("cors origins", args.cors_origins.join(", "));
    }
    if let Some(path) = &args.campaigns {
        let campaigns = relayer::config::load_public(path)
            .map_err(|e| Error::input("campaigns", e.to_string()))?;
        checked.add("campaigns", campaign_names(path, &campaigns));
    }
    checked.print();
    Ok(())
}

fn campaign_names(path: &Path, campaigns: &[relayer::config::CampaignConfig]) -> String {
    let names: Vec<String> = campaigns
        .iter()
        .map(|c| {
            format!(
                "{} (chain {}, {} accounts)",
                c.name,
                c.chain_id,
                c.accounts.len()
            )
        })
        .collect();
    format!("{}: {}", path.display(), names.join(", "))
}

/// The probe server of `--health-listen` (worker, relay), if asked for: binding it is done
/// before the process starts working, so a bad address is said at once.
async fn probes(
    listen: Option<&str>,
    readiness: impl FnOnce() -> http::health::Readiness,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let Some(listen) = listen else {
        return Ok(());
    };
    http::health::serve_probes(listen, readiness(), stop)
        .await
        .map_err(|e| failed(listen, e))?;
    Ok(())
}

/// The claim checkers of `serve`: `threads` (every core) and `queue` (4 per thread) waiting.
fn validation_pool(threads: Option<usize>, queue: Option<usize>) -> http::ValidationPool {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    http::ValidationPool::new(threads, queue.unwrap_or(4 * threads))
}

/// The relayer of the campaigns file at `path`; with `keys` its accounts' keys are read (`relay`
/// signs), without (`serve` only checks and stores claims) none is.
async fn connect_relayer(
    client: &redis::Client,
    path: &Path,
    settings: RelaySettings,
    keys: bool,
) -> Result<Relayer> {
    let configs = if keys {
        relayer::config::load(path)
    } else {
        relayer::config::load_public(path)
    }
    .map_err(|e| Error::input("campaigns", e.to_string()))?;
    Relayer::connect(configs, client.clone(), settings)
        .await
        .map_err(|e| Error::input("campaigns", e.to_string()))
}

pub(crate) struct Work {
    pub process: ProcessArgs,
    pub redis: RedisArgs,
    pub keys: PathBuf,
    pub threads: Option<usize>,
    pub id: Option<String>,
    pub state: PathBuf,
    pub lease_ms: u64,
    pub max_deliveries: u32,
    pub result_ttl: u64,
    pub dead_letter_ttl: u64,
    pub task_timeout: u64,
    pub sealing_key: Option<PathBuf>,
    pub zkey_cache: airprover::circom::cache::ZkeyCache,
    pub health_listen: Option<String>,
}

/// The exit status of a worker that gave up a prover that stopped making progress.
pub(crate) const EXIT_TASK_TIMEOUT: u8 = 3;

/// Runs a worker; its exit status is 0 when stopped by a signal, [`EXIT_TASK_TIMEOUT`] when a
/// prover stopped making progress (its task given back, the prover's thread left behind).
pub(crate) fn worker(args: Work) -> Result<ExitCode> {
    if args.lease_ms < 100 || args.max_deliveries == 0 || args.task_timeout == 0 {
        return Err(Error::input(
            "arguments",
            "--lease-ms must be at least 100, --max-deliveries and --task-timeout at least 1",
        ));
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(Error::input("threads", "must be at least 1"));
    }
    if args.process.check_config {
        return check_worker(&args, threads).map(|()| ExitCode::SUCCESS);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| failed("threads", e))?;
    let sealing = sealing(args.sealing_key.as_deref())?;
    let (client, shown) = redis_client(&args.redis)?;
    let keys = redis_keys(&args.redis)?;
    logs(args.process.log_format);
    log_sealing(&sealing);
    let settings = worker::WorkerSettings {
        id: worker_id(args.id),
        keys: args.keys,
        state: args.state,
        lease: Duration::from_millis(args.lease_ms),
        max_deliveries: args.max_deliveries,
        backoff: airprover::runtime::retry::Backoff::default(),
        result_ttl_s: args.result_ttl,
        dead_letter_ttl_s: args.dead_letter_ttl,
        task_timeout: Duration::from_secs(args.task_timeout),
        threads,
        sealing,
        zkey_cache: args.zkey_cache,
    };
    let runtime = runtime()?;
    http::metrics::recorder();
    let exit = runtime.block_on(async move {
        let stop = shutdown_signal();
        if let Some(listen) = args.health_listen.as_deref() {
            let redis = connect::manager(client.clone())
                .await
                .map_err(|e| worker::WorkerExit::Start(format!("redis: {e}")))?;
            let circuits = match airprover::prover::key_dir::KeyDir::new(&settings.keys).manifest()
            {
                Ok(Some(m)) if !m.circuits.is_empty() => Ok(serde_json::json!({
                    "circuits": m.ids()
                })),
                Ok(_) => Err((
                    Code::KeyNotFound,
                    "the key directory has no circuits".to_string(),
                )),
                Err(e) => Err((e.code().into(), e.to_string())),
            };
            let readiness = || {
                http::health::Readiness::default()
                    .with(http::health::Part::redis(redis, "worker"))
                    .with(http::health::Part::fixed("keys", circuits))
            };
            probes(Some(listen), readiness, stop.clone())
                .await
                .map_err(|e| worker::WorkerExit::Start(e.to_string()))?;
        }
        worker::run(settings, client, keys, stop).await
    });
    match exit {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(exit @ worker::WorkerExit::TaskTimeout { .. }) => {
            eprintln!("{exit}");
            // Dropping the runtime would wait for the stuck prover thread forever.
            runtime.shutdown_background();
            Ok(ExitCode::from(EXIT_TASK_TIMEOUT))
        }
        Err(e) => Err(failed(&format!("worker on {shown}"), e)),
    }
}

/// `worker --check-config`: what a worker reads before it connects, read and checked; its
/// signing key is read if there is one, never made.
fn check_worker(args: &Work, threads: usize) -> Result<()> {
    let mut checked = Checked::new("worker");
    let sealing = sealing(args.sealing_key.as_deref())?;
    let (_, shown) = redis_client(&args.redis)?;
    checked.add("redis", shown);
    let circuits = key_dir(&args.keys)?;
    checked.add(
        "keys",
        format!("{} ({})", args.keys.display(), circuits.join(", ")),
    );
    checked.add("sealing key", sealing_line(&sealing));
    checked.add(
        "zkey cache",
        args.zkey_cache.dir().map_or_else(
            || "none: circom circuits' zkeys are converted at every start".to_string(),
            |dir| dir.display().to_string(),
        ),
    );
    let key_file = args.state.join("worker.key");
    if key_file.exists() {
        let key = worker::signing_key(&args.state)
            .map_err(|e| failed(&key_file.display().to_string(), e))?;
        checked.add(
            "signing key",
            format!(
                "{} (public key {})",
                key_file.display(),
                hex::encode(key.verifying_key().to_bytes())
            ),
        );
    } else {
        checked.add(
            "signing key",
            format!("{}: made on first start", key_file.display()),
        );
    }
    checked.add("threads", threads);
    checked.print();
    Ok(())
}

/// `airprover dead-letters list|requeue`.
pub(crate) fn dead_letters(action: DeadLetters) -> Result<()> {
    let redis = match &action {
        DeadLetters::List { redis, .. } | DeadLetters::Requeue { redis, .. } => redis,
    };
    let (client, shown) = redis_client(redis)?;
    let keys = redis_keys(redis)?;
    runtime()?.block_on(async move {
        let manager = connect::manager(client)
            .await
            .map_err(|e| failed(&shown, e))?;
        let tasks = Tasks::new(manager, keys);
        match action {
            DeadLetters::List { count, .. } => {
                for letter in tasks
                    .dead_letters(count)
                    .await
                    .map_err(|e| failed(&shown, e))?
                {
                    println!(
                        "{}",
                        serde_json::json!({
                            "letter": letter.letter,
                            "task": letter.id,
                            "circuit": letter.circuit,
                            "apiKey": letter.api_key,
                            "attempts": letter.attempts,
                            "error": letter.error,
                            "requeueable": letter.requeueable,
                        })
                    );
                }
                Ok(())
            }
            DeadLetters::Requeue {
                letter,
                sealing_key,
                ..
            } => {
                // A stream entry id, as `list` prints it: anything else is the caller's typo,
                // not Redis's error.
                let id_like = letter.split_once('-').is_some_and(|(ms, seq)| {
                    [ms, seq]
                        .iter()
                        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                });
                if !id_like {
                    return Err(Error::input(
                        "letter",
                        format!("{letter:?} is not a dead letter id (MS-SEQ, as `dead-letters list` prints it)"),
                    ));
                }
                let sealing = sealing(sealing_key.as_deref())?;
                let id = hex::encode(rand::random::<[u8; 16]>());
                match tasks
                    .requeue(&letter, &id, airprover::service::now_ms(), &sealing)
                    .await
                    .map_err(|e| failed(&shown, e))?
                {
                    Ok(id) => {
                        println!("{id}");
                        Ok(())
                    }
                    Err(why) => Err(Error::input("letter", why)),
                }
            }
        }
    })
}

pub(crate) struct Relay {
    pub process: ProcessArgs,
    pub redis: RedisArgs,
    pub campaigns: PathBuf,
    pub id: Option<String>,
    pub lease_ms: u64,
    pub poll_ms: u64,
    pub health_listen: Option<String>,
}

pub(crate) fn relay(args: Relay) -> Result<()> {
    let Relay {
        process,
        redis,
        campaigns,
        id,
        lease_ms,
        poll_ms,
        health_listen,
    } = args;
    if lease_ms < 100 || !(10..=60_000).contains(&poll_ms) {
        return Err(Error::input(
            "arguments",
            "--lease-ms must be at least 100 and --poll-ms between 10 and 60000",
        ));
    }
    let settings = RelaySettings {
        lease: Duration::from_millis(lease_ms),
        poll: Duration::from_millis(poll_ms),
        keys: redis_keys(&redis)?,
        ..RelaySettings::default()
    };
    let (client, shown) = redis_client(&redis)?;
    if process.check_config {
        // The relayer keys too: environment variables or files, as `relay` reads them.
        let configs = relayer::config::load(&campaigns)
            .map_err(|e| Error::input("campaigns", e.to_string()))?;
        let mut checked = Checked::new("relay");
        checked.add("redis", shown);
        checked.add("campaigns", campaign_names(&campaigns, &configs));
        checked.print();
        return Ok(());
    }
    logs(process.log_format);
    let id = worker_id(id);
    http::metrics::recorder();
    runtime()?.block_on(async move {
        let relayer = connect_relayer(&client, &campaigns, settings, true).await?;
        tracing::info!(worker = id, "relayer worker started on {shown}");
        let stop = shutdown_signal();
        if health_listen.is_some() {
            let redis = connect::manager(client.clone())
                .await
                .map_err(|e| failed(&shown, e))?;
            let readiness = || {
                relayer::metrics::rpc_parts(&relayer, true)
                    .into_iter()
                    .fold(
                        http::health::Readiness::default()
                            .with(http::health::Part::redis(redis, "relay")),
                        http::health::Readiness::with,
                    )
            };
            probes(health_listen.as_deref(), readiness, stop.clone()).await?;
            tokio::spawn(relayer::metrics::watch_accounts(
                relayer.clone(),
                stop.clone(),
            ));
        }
        relayer
            .run_worker(&id, stop)
            .await
            .map_err(|e| Error::input("relay", e.to_string()))
    })
}

/// `workers export-keys`: the public keys of the workers alive now, written to `out` as
/// `{ "workers": [{ "id", "publicKey" }] }` for clients to pin. Returns how many.
pub(crate) fn export_worker_keys(redis: &RedisArgs, out: &Path) -> Result<usize> {
    let (client, shown) = redis_client(redis)?;
    let names = redis_keys(redis)?;
    let keys = runtime()?.block_on(async move {
        let manager = connect::manager(client)
            .await
            .map_err(|e| failed(&shown, e))?;
        Tasks::new(manager, names)
            .live_worker_keys()
            .await
            .map_err(|e| failed(&shown, e))
    })?;
    if keys.is_empty() {
        return Err(Error::input(
            "redis",
            "no worker is alive: start the workers, then export their keys",
        ));
    }
    let list: Vec<_> = keys
        .iter()
        .map(|(id, key)| serde_json::json!({ "id": id, "publicKey": key }))
        .collect();
    let text = serde_json::to_string_pretty(&serde_json::json!({ "workers": list }))
        .expect("a JSON value always serialises");
    // Read back as a client reads it: a worker with a malformed key is refused here, not there.
    PinnedWorkers::from_json(&text)?;
    std::fs::write(out, text + "\n").map_err(|e| Error::Io {
        path: out.display().to_string(),
        what: e.to_string(),
    })?;
    Ok(keys.len())
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn submit(
    server: &str,
    api_key: Option<&str>,
    input: &Path,
    circuit: Option<&str>,
    proof: &Path,
    public: &Path,
    priority: &str,
    keys: Option<&Path>,
    worker_keys: Option<&Path>,
) -> std::result::Result<(), ServiceError> {
    priority
        .parse::<airprover::runtime::queue::Priority>()
        .map_err(|e| Error::input("priority", e))?;
    let text = match circuit {
        Some(_) => airprover::cli::zkey::read_input(input)?,
        None => airprover::cli::read(input)?,
    };
    let submission = match circuit {
        Some(circuit) => client::Submission::Circom {
            circuit,
            input: &text,
        },
        None => client::Submission::Claim(&text),
    };
    let workers = worker_keys
        .map(|path| airprover::cli::read(path).and_then(|t| PinnedWorkers::from_json(&t)))
        .transpose()?;
    let trust = keys.map(|keys| client::Trust {
        keys,
        workers: workers.as_ref(),
    });
    let show = std::io::IsTerminal::is_terminal(&std::io::stderr());
    runtime()?.block_on(async {
        client::submit(
            server,
            api_key,
            submission,
            priority,
            proof,
            public,
            trust.as_ref(),
            &mut |line| {
                if show {
                    eprint!("\r{line:<70}");
                }
            },
        )
        .await
    })?;
    if show {
        eprintln!();
    }
    Ok(())
}
