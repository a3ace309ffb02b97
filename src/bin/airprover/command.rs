//! The command line itself: argument parsing and printing only; the commands are in
//! `airprover::cli`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use airprover::cli::{self, EXIT_ERROR, EXIT_NOT_VALID};

#[path = "config.rs"]
mod config;
#[path = "service.rs"]
mod service;
use airprover::{Error, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// Groth16 (BN254) proofs of reputation claims.
#[derive(Debug, Parser)]
#[command(name = "airprover", version)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a circuit's proving and verifying keys (and merge manifest.json) in a directory.
    Setup {
        /// Circuit id, e.g. threshold-d20-k8.
        #[arg(long)]
        circuit: String,
        /// Key directory.
        #[arg(long)]
        out: PathBuf,
        /// Deterministic DEVELOPMENT keys from this seed (anyone with it can forge proofs).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Write a random tree and a valid claim against it (the tree goes to NAME.tree.json).
    Sample {
        /// Circuit id of the claim.
        #[arg(long)]
        circuit: String,
        /// The claim file to write.
        #[arg(long)]
        out: PathBuf,
        /// Leaves in the tree [default: 1000, or 2^D if smaller].
        #[arg(long)]
        attestations: Option<usize>,
        /// Seed of the sample.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The claim's campaignId (a deployment's, from `campaign-id`) [default: drawn from the
        /// seed].
        #[arg(long)]
        campaign: Option<String>,
        /// Overwrite the claim and tree files if they exist.
        #[arg(long)]
        force: bool,
    },
    /// Print the campaignId a ReputationAirdrop deployment accepts: keccak256(abi.encode(chain
    /// id, airdrop address)) mod r. Give the airdrop's address, or its deployer and the nonce of
    /// the deploying transaction (an id known before deploying).
    CampaignId {
        /// The chain id.
        #[arg(long)]
        chain_id: u64,
        /// The airdrop's address.
        #[arg(long, conflicts_with_all = ["deployer", "nonce"])]
        address: Option<String>,
        /// The deploying account.
        #[arg(long, requires = "nonce")]
        deployer: Option<String>,
        /// The nonce of the deploying transaction.
        #[arg(long, requires = "deployer")]
        nonce: Option<u64>,
    },
    /// Prove a claim with --keys, or a circom circuit with a snarkjs zkey (--zkey with --wtns,
    /// or --wasm and --input); write snarkjs proof.json and public.json.
    Prove {
        /// Key directory (a claim: --input is the claim).
        #[arg(long, conflicts_with_all = ["zkey", "wasm", "wtns"], required_unless_present = "zkey")]
        keys: Option<PathBuf>,
        /// A snarkjs Groth16 .zkey (a circom circuit: the witness from --wtns, or --wasm and
        /// --input), as snarkjs's groth16 prove and fullprove take it.
        #[arg(long)]
        zkey: Option<PathBuf>,
        /// With --keys, the claim (JSON); with --zkey and --wasm, the circuit's input signals.
        #[arg(long)]
        input: Option<PathBuf>,
        /// With --zkey: circom's witness wasm (circuit_js/circuit.wasm).
        #[arg(long, requires_all = ["zkey", "input"], conflicts_with = "wtns")]
        wasm: Option<PathBuf>,
        /// With --zkey: the witness, as snarkjs wtns calculate writes it.
        #[arg(long, requires = "zkey", conflicts_with = "input")]
        wtns: Option<PathBuf>,
        /// Where to write proof.json.
        #[arg(long)]
        proof: PathBuf,
        /// Where to write public.json.
        #[arg(long)]
        public: PathBuf,
        #[command(flatten)]
        zkey_cache: ZkeyCacheArgs,
    },
    /// Verify a proof with --keys and --circuit, or with snarkjs's verification_key.json
    /// (--vkey): exit 0 valid, 1 not valid, 2 bad input.
    Verify {
        /// Key directory.
        #[arg(long, requires = "circuit", required_unless_present = "vkey")]
        keys: Option<PathBuf>,
        /// Circuit id.
        #[arg(long, requires = "keys")]
        circuit: Option<String>,
        /// snarkjs's verification_key.json (zkey export verificationkey).
        #[arg(long, conflicts_with_all = ["keys", "circuit"])]
        vkey: Option<PathBuf>,
        /// proof.json.
        #[arg(long)]
        proof: PathBuf,
        /// public.json.
        #[arg(long)]
        public: PathBuf,
    },
    /// Print a snarkjs .zkey's facts as JSON: protocol, curve, nVars, nPublic, constraints,
    /// domain size, SHA-256, sections and their sizes.
    ZkeyInfo {
        /// The .zkey.
        zkey: PathBuf,
    },
    /// Add a circom circuit to a key directory (for serve, the workers and the browser): its
    /// snarkjs Groth16 .zkey, circom's witness wasm and snarkjs's verification_key.json, checked
    /// (the zkey converted, every point; the verifying key the zkey's), copied in as ID.zkey,
    /// ID.wasm and ID.vkey.json and listed in manifest.json.
    AddCircom {
        /// Key directory.
        #[arg(long)]
        keys: PathBuf,
        /// The circuit's id: [a-z0-9][a-z0-9-]{0,63}, not a built-in circuit's form.
        #[arg(long)]
        circuit: String,
        /// The Groth16 .zkey (after the ceremony's contributions).
        #[arg(long)]
        zkey: PathBuf,
        /// circom's witness wasm (circuit_js/circuit.wasm).
        #[arg(long)]
        wasm: PathBuf,
        /// snarkjs's verification_key.json of the zkey.
        #[arg(long)]
        vkey: PathBuf,
        #[command(flatten)]
        zkey_cache: ZkeyCacheArgs,
    },
    /// Export a verifying key for another verifier.
    ExportVk {
        /// Key directory.
        #[arg(long)]
        keys: PathBuf,
        /// Circuit id.
        #[arg(long)]
        circuit: String,
        /// Output format.
        #[arg(long, value_enum)]
        format: Format,
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a Solidity Groth16 verifier contract for a verifying key (snarkjs's interface).
    ExportVerifier {
        /// Key directory.
        #[arg(long)]
        keys: PathBuf,
        /// Circuit id.
        #[arg(long)]
        circuit: String,
        /// Where to write Verifier.sol.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a circuit in circom's .r1cs format, for a phase-2 ceremony (snarkjs groth16 setup,
    /// zkey contribute, zkey verify); bring its final zkey back with import-zkey.
    ExportR1cs {
        /// Circuit id, e.g. threshold-d20-k8.
        #[arg(long)]
        circuit: String,
        /// Where to write circuit.r1cs.
        #[arg(long)]
        out: PathBuf,
    },
    /// Turn a phase-2 ceremony's final .zkey of one of our circuits into its keys (and merge
    /// manifest.json), after checking that the zkey is of that circuit.
    ImportZkey {
        /// Circuit id, e.g. threshold-d20-k8.
        #[arg(long)]
        circuit: String,
        /// The ceremony's final .zkey (snarkjs zkey beacon or contribute).
        #[arg(long)]
        zkey: PathBuf,
        /// Key directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Serve the HTTP API of the prover service (and the claim relayer with --campaigns).
    Serve {
        #[command(flatten)]
        process: ProcessArgs,
        #[command(flatten)]
        redis: RedisArgs,
        /// Key directory: the circuits tasks may use.
        #[arg(long, env = "AIRPROVER_KEYS")]
        keys: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8787", env = "AIRPROVER_LISTEN")]
        listen: String,
        /// API keys with their quotas (JSON); without it the API is open (development only).
        #[arg(long, env = "AIRPROVER_API_KEYS")]
        api_keys: Option<PathBuf>,
        /// Campaigns the relayer pays claims for (JSON).
        #[arg(long, env = "AIRPROVER_CAMPAIGNS")]
        campaigns: Option<PathBuf>,
        /// An origin allowed by CORS (repeatable).
        #[arg(long, env = "AIRPROVER_CORS_ORIGIN", value_delimiter = ',')]
        cors_origin: Vec<String>,
        /// Seconds a request may take (event streams excepted).
        #[arg(long, default_value_t = 30, env = "AIRPROVER_REQUEST_TIMEOUT")]
        request_timeout: u64,
        /// A proxy in front sets X-Forwarded-For: its last entry is the client's address (for
        /// the limit on failed authentications).
        #[arg(long, env = "AIRPROVER_TRUST_PROXY")]
        trust_proxy: bool,
        /// Claims checked at once on blocking threads [default: every core].
        #[arg(long, env = "AIRPROVER_VALIDATION_THREADS")]
        validation_threads: Option<usize>,
        /// Claims waiting for a checker beyond those; more answer 503 SERVER_BUSY [default: 4
        /// per checker].
        #[arg(long, env = "AIRPROVER_VALIDATION_QUEUE")]
        validation_queue: Option<usize>,
        /// Seconds an event stream (SSE, WebSocket) stays open without an event.
        #[arg(long, default_value_t = 300, env = "AIRPROVER_STREAM_IDLE_SECS")]
        stream_idle_secs: u64,
        /// Event streams (SSE streams, WebSocket subscriptions) one API key may hold open.
        #[arg(long, default_value_t = airprover::service::http::DEFAULT_PER_KEY, env = "AIRPROVER_MAX_STREAMS_PER_KEY")]
        max_streams_per_key: usize,
        /// Event streams one client address may hold open.
        #[arg(long, default_value_t = airprover::service::http::DEFAULT_PER_ADDRESS, env = "AIRPROVER_MAX_STREAMS_PER_ADDRESS")]
        max_streams_per_address: usize,
        /// The sealing key file (`airprover sealing-key new`): task inputs, claimants' secrets
        /// included, are stored in Redis only sealed, and the dedupe index is keyed. Required
        /// with --api-keys unless --dev-unsealed.
        #[arg(long, env = "AIRPROVER_SEALING_KEY")]
        sealing_key: Option<PathBuf>,
        /// Development only: store task inputs in Redis in plain text (secrets in the
        /// append-only file and the snapshots). Refused with --sealing-key.
        #[arg(long, env = "AIRPROVER_DEV_UNSEALED")]
        dev_unsealed: bool,
        /// The largest request body in bytes (1024 to 67108864); larger ones answer 413
        /// BODY_TOO_LARGE. Raise it for circom circuits with large inputs (up to 16 MiB).
        #[arg(long, default_value_t = airprover::service::http::DEFAULT_MAX_BODY_BYTES, env = "AIRPROVER_MAX_BODY_BYTES")]
        max_body_bytes: usize,
    },
    /// The service's sealing key file: task inputs are stored in Redis only sealed with it.
    SealingKey {
        #[command(subcommand)]
        action: SealingKeyAction,
    },
    /// API keys for `serve --api-keys`.
    ApiKey {
        #[command(subcommand)]
        action: ApiKeyAction,
    },
    /// Prove tasks from Redis (any number of workers, on any machine).
    Worker {
        #[command(flatten)]
        process: ProcessArgs,
        #[command(flatten)]
        redis: RedisArgs,
        /// Key directory.
        #[arg(long, env = "AIRPROVER_KEYS")]
        keys: PathBuf,
        /// Proving threads [default: every core].
        #[arg(long, env = "AIRPROVER_THREADS")]
        threads: Option<usize>,
        /// Worker id [default: host and process id].
        #[arg(long, env = "AIRPROVER_ID")]
        id: Option<String>,
        /// Directory of the worker's signing key [default: .airprover-worker].
        #[arg(long, default_value = ".airprover-worker", env = "AIRPROVER_STATE")]
        state: PathBuf,
        /// Milliseconds after which a silent worker's task is taken over.
        #[arg(long, default_value_t = 10_000, env = "AIRPROVER_LEASE_MS")]
        lease_ms: u64,
        /// Deliveries after which a task goes to the dead letters.
        #[arg(long, default_value_t = 5, env = "AIRPROVER_MAX_DELIVERIES")]
        max_deliveries: u32,
        /// Seconds a finished task's record is kept.
        #[arg(long, default_value_t = 3600, env = "AIRPROVER_RESULT_TTL")]
        result_ttl: u64,
        /// Seconds a dead letter keeps its task's input (for `dead-letters requeue`).
        #[arg(long, default_value_t = 7 * 24 * 3600, env = "AIRPROVER_DEAD_LETTER_TTL")]
        dead_letter_ttl: u64,
        /// Seconds without progress after which a prover is given up: its task goes back to the
        /// queue and the worker exits with status 3, for its supervisor to restart it.
        #[arg(long, default_value_t = 600, env = "AIRPROVER_TASK_TIMEOUT")]
        task_timeout: u64,
        /// The sealing key file, as `serve`'s: task inputs are opened with the key each names.
        /// Without it, only the plain-text inputs of a development `serve` are proved.
        #[arg(long, env = "AIRPROVER_SEALING_KEY")]
        sealing_key: Option<PathBuf>,
        #[command(flatten)]
        zkey_cache: ZkeyCacheArgs,
        #[command(flatten)]
        health: HealthArgs,
    },
    /// The prover service's dead letters: tasks out of tries.
    DeadLetters {
        #[command(subcommand)]
        action: DeadLetters,
    },
    /// Relay claims on-chain (any number of relayer workers, on any machine).
    Relay {
        #[command(flatten)]
        process: ProcessArgs,
        #[command(flatten)]
        redis: RedisArgs,
        /// Campaigns (JSON): chain, airdrop, circuit, keys, relayer accounts.
        #[arg(long, env = "AIRPROVER_CAMPAIGNS")]
        campaigns: PathBuf,
        /// Worker id [default: host and process id].
        #[arg(long, env = "AIRPROVER_ID")]
        id: Option<String>,
        /// A claim whose worker is silent this long is taken over by another worker.
        #[arg(long, default_value_t = 10_000, env = "AIRPROVER_LEASE_MS")]
        lease_ms: u64,
        /// Between two looks at the chain while a transaction is pending.
        #[arg(long, default_value_t = 250, env = "AIRPROVER_POLL_MS")]
        poll_ms: u64,
        #[command(flatten)]
        health: HealthArgs,
    },
    /// Prove a claim, or a circom circuit's input (--circuit), on a server: wait with a
    /// progress line, write the files.
    Submit {
        /// The server, e.g. http://127.0.0.1:8787.
        #[arg(long)]
        server: String,
        /// API key [default: $AIRPROVER_API_KEY].
        #[arg(long)]
        api_key: Option<String>,
        /// The claim (JSON); with --circuit, the circom circuit's input signals (JSON, as
        /// snarkjs takes them). It goes to the server, secret and private inputs included.
        #[arg(long)]
        input: PathBuf,
        /// A circom circuit of the server's (its key directory's id): --input is its input.
        #[arg(long)]
        circuit: Option<String>,
        /// Where to write proof.json.
        #[arg(long)]
        proof: PathBuf,
        /// Where to write public.json.
        #[arg(long)]
        public: PathBuf,
        /// LOW, NORMAL, HIGH or CRITICAL.
        #[arg(long, default_value = "NORMAL")]
        priority: String,
        /// Key directory: the proof must verify with its verifying key before anything is
        /// written (for a circom circuit, its verification_key.json; and the public signals
        /// must be those its witness wasm computes from --input).
        #[arg(long)]
        keys: Option<PathBuf>,
        /// The pinned worker keys (`workers export-keys`): the result must be signed by one of
        /// them, over the task, the circuit, --keys's verifying key, the proof and the public
        /// signals, before anything is written.
        #[arg(long, requires = "keys")]
        worker_keys: Option<PathBuf>,
    },
    /// The prover workers' registry in Redis.
    Workers {
        #[command(subcommand)]
        command: WorkersCommand,
    },
    /// Print a proof's verifyProof calldata, as `snarkjs zkey export soliditycalldata` does.
    Calldata {
        /// proof.json.
        #[arg(long)]
        proof: PathBuf,
        /// public.json.
        #[arg(long)]
        public: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum WorkersCommand {
    /// Write the public keys of the workers alive now, { "workers": [{ "id", "publicKey" }] },
    /// for clients to pin (`submit --worker-keys`, the runtime's `remote.workerKeys`).
    ExportKeys {
        #[command(flatten)]
        redis: RedisArgs,
        /// Where to write workers.json.
        #[arg(long)]
        out: PathBuf,
    },
}

/// The converted-key cache of the commands that read a snarkjs zkey (`prove --zkey`,
/// `add-circom`, `worker`).
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct ZkeyCacheArgs {
    /// Where zkeys converted into airprover's key are kept, by the zkey's SHA-256 (checked once,
    /// read unchecked afterwards) [default: $XDG_CACHE_HOME/airprover/zkeys, else
    /// ~/.cache/airprover/zkeys].
    #[arg(long, value_name = "DIR", env = "AIRPROVER_ZKEY_CACHE")]
    pub zkey_cache: Option<PathBuf>,
    /// Convert the zkey every time and keep nothing (over --zkey-cache and its variable).
    #[arg(long)]
    pub no_zkey_cache: bool,
}

impl ZkeyCacheArgs {
    pub(crate) fn cache(&self) -> airprover::circom::cache::ZkeyCache {
        airprover::circom::cache::ZkeyCache::choose(self.zkey_cache.clone(), self.no_zkey_cache)
    }
}

/// Says on stderr what a user should know of where a converted key came from: a bad cache
/// entry replaced, a cache that could not be written.
pub(crate) fn report_origin(origin: &airprover::circom::cache::Origin) {
    use airprover::circom::cache::Origin;
    if let Origin::Converted { stored, replaced } = origin {
        if let Some(why) = replaced {
            eprintln!("warning: a bad converted-key cache entry was replaced ({why})");
        }
        if let Some(Err(why)) = stored {
            eprintln!("warning: the converted key was not cached: {why}");
        }
    }
}

/// `--health-listen` of `worker` and `relay`.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct HealthArgs {
    /// Serve /health (live), /ready (Redis and, for relay, every campaign's RPC) and /metrics
    /// (this process's numbers) on ADDR, e.g. 127.0.0.1:9101 [default: none]. No
    /// authentication: bind it where only the orchestrator and Prometheus reach it.
    #[arg(long, value_name = "ADDR")]
    pub health_listen: Option<String>,
}

/// Where Redis is and how to trust it: every command that connects to Redis takes these.
#[derive(Debug, clap::Args)]
pub(crate) struct RedisArgs {
    /// Redis URL: redis://[user:password@]host:port/, rediss:// for TLS. A password on the
    /// command line shows in `ps`: prefer AIRPROVER_REDIS_URL or --redis-file.
    #[arg(
        long,
        env = "AIRPROVER_REDIS_URL",
        hide_env_values = true,
        value_name = "URL",
        required_unless_present = "redis_file",
        conflicts_with = "redis_file"
    )]
    pub redis: Option<String>,
    /// A file holding the Redis URL (one line; mode 0600: it holds a password).
    #[arg(long, value_name = "FILE", env = "AIRPROVER_REDIS_FILE")]
    pub redis_file: Option<PathBuf>,
    /// The CA certificate (PEM) that signed Redis's TLS certificate [default: the system's
    /// trust store].
    #[arg(long, value_name = "FILE", env = "AIRPROVER_REDIS_CA")]
    pub redis_ca: Option<PathBuf>,
    /// A client certificate (PEM) for a Redis that asks for one (tls-auth-clients yes).
    #[arg(
        long,
        value_name = "FILE",
        requires = "redis_key",
        env = "AIRPROVER_REDIS_CERT"
    )]
    pub redis_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM, mode 0600).
    #[arg(
        long,
        value_name = "FILE",
        requires = "redis_cert",
        env = "AIRPROVER_REDIS_KEY"
    )]
    pub redis_key: Option<PathBuf>,
    /// The prefix of every Redis key: two deployments on one Redis, each its own prefix, never
    /// see each other's tasks, claims or workers (letters, digits, '-', '_', '.').
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "airprover",
        env = "AIRPROVER_REDIS_PREFIX"
    )]
    pub redis_prefix: String,
}

/// How `serve`, `worker` and `relay` are configured and log. Every flag of theirs is also read
/// from `AIRPROVER_<FLAG>` (`--lease-ms`: `AIRPROVER_LEASE_MS`; `--redis`: `AIRPROVER_REDIS_URL`)
/// and from `--config`'s file; the command line wins, then the environment, then the file.
#[derive(Debug, clap::Args)]
pub(crate) struct ProcessArgs {
    /// A TOML file of settings: each key a flag's name without `--` (`lease-ms = 20000`), at the
    /// top level for every command or in a `[serve]`, `[worker]` or `[relay]` table for one.
    #[arg(long, value_name = "FILE", env = "AIRPROVER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Check the configuration and exit (0 when good) without connecting to anything: files
    /// readable (secrets mode 0600), keys and URLs parse. It prints what it checked, never a
    /// secret. (No environment variable: set in a unit's environment it would stop the service.)
    #[arg(long)]
    pub check_config: bool,
    /// Log lines as text, or as one JSON object a line (for a log collector).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "AIRPROVER_LOG_FORMAT")]
    pub log_format: LogFormat,
}

/// The form of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// One line of text per event (colours only on a terminal).
    Text,
    /// One JSON object per event: timestamp, level, target, message and fields.
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// snarkjs verification_key.json.
    Snarkjs,
}

pub(crate) fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let command = match config::apply(Args::command(), &argv) {
        Ok(command) => command,
        Err(e) => return fail(&e),
    };
    let parsed = command
        .try_get_matches_from(&argv)
        .and_then(|matches| Args::from_arg_matches(&matches));
    let args = match parsed {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // The first paragraph: a list of missing arguments is on the lines after its first.
            let text = e.to_string();
            let first = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ");
            let reason = first.strip_prefix("error: ").unwrap_or(&first).to_string();
            return fail(&Error::input("arguments", reason));
        }
    };
    match run(args.command) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Setup { circuit, out, seed } => {
            // Every argument is checked before anything is printed: an error is the only line.
            // (A circom circuit's id parses, but setup has no constraints for it.)
            airprover::circuit::Circuit::blank(&circuit.parse()?)?;
            if let Some(seed) = seed {
                eprintln!("warning: development keys from seed {seed}: anyone who knows the seed can forge proofs");
            }
            let entry = cli::setup(&circuit, &out, seed)?;
            println!(
                "{}: {} constraints, keys in {}",
                entry.id,
                entry.constraints,
                out.display()
            );
        }
        Command::Sample {
            circuit,
            out,
            attestations,
            seed,
            campaign,
            force,
        } => {
            let tree = cli::sample(
                &circuit,
                &out,
                attestations,
                seed,
                campaign.as_deref(),
                force,
            )?;
            println!("claim in {}, tree in {}", out.display(), tree.display());
        }
        Command::CampaignId {
            chain_id,
            address,
            deployer,
            nonce,
        } => {
            let deployer = deployer.as_deref().zip(nonce);
            let (id, airdrop) = cli::campaign_id(chain_id, address.as_deref(), deployer)?;
            eprintln!("airdrop {airdrop} on chain {chain_id}");
            println!("{id}");
        }
        Command::Prove {
            keys,
            zkey,
            input,
            wasm,
            wtns,
            proof,
            public,
            zkey_cache,
        } => {
            let show = std::io::stderr().is_terminal();
            let mut progress = |p: &airprover::prover::Progress| {
                if show {
                    eprint!("\r{:>3.0}% {:<20}", p.fraction * 100.0, p.stage.to_string());
                    let _ = std::io::stderr().flush();
                }
            };
            let proved = match (keys, zkey) {
                (Some(keys), None) => {
                    let input = input.ok_or_else(|| {
                        Error::input("arguments", "--keys needs --input (the claim)")
                    })?;
                    cli::prove(&keys, &input, &proof, &public, &mut progress)
                }
                (None, Some(zkey)) => {
                    let witness = match (wtns, wasm, input) {
                        (Some(wtns), None, None) => cli::zkey::WitnessSource::Wtns(wtns),
                        (None, Some(wasm), Some(input)) => {
                            cli::zkey::WitnessSource::Wasm { wasm, input }
                        }
                        _ => {
                            return Err(Error::input(
                                "arguments",
                                "--zkey needs the witness: --wtns FILE, or --wasm FILE and --input FILE",
                            ))
                        }
                    };
                    let cache = zkey_cache.cache();
                    cli::zkey::prove(&zkey, &witness, &proof, &public, &cache, &mut progress)
                        .map(|origin| report_origin(&origin))
                }
                _ => {
                    return Err(Error::input(
                        "arguments",
                        "give --keys (a claim) or --zkey (a circom circuit), not both",
                    ))
                }
            };
            if show {
                eprintln!();
            }
            proved?;
            println!(
                "proof in {}, public signals in {}",
                proof.display(),
                public.display()
            );
        }
        Command::Verify {
            keys,
            circuit,
            vkey,
            proof,
            public,
        } => {
            let (valid, what) = match (keys, circuit, vkey) {
                (None, None, Some(vkey)) => (
                    cli::zkey::verify(&vkey, &proof, &public)?,
                    vkey.display().to_string(),
                ),
                (Some(keys), Some(circuit), None) => {
                    (cli::verify(&keys, &circuit, &proof, &public)?, circuit)
                }
                _ => {
                    return Err(Error::input(
                        "arguments",
                        "give --keys and --circuit, or --vkey (snarkjs's verification_key.json), not both",
                    ))
                }
            };
            if !valid {
                eprintln!("VERIFY_FAILED: the proof does not verify for {what}");
                return Ok(ExitCode::from(EXIT_NOT_VALID));
            }
            println!("OK: the proof verifies for {what}");
        }
        Command::AddCircom {
            keys,
            circuit,
            zkey,
            wasm,
            vkey,
            zkey_cache,
        } => {
            let (entry, origin) =
                cli::zkey::add_circom(&keys, &circuit, &zkey, &wasm, &vkey, &zkey_cache.cache())?;
            report_origin(&origin);
            println!(
                "{}: {}, {} and {} in {}, listed in its manifest.json",
                entry.id,
                entry.zkey.name,
                entry.wasm.name,
                entry.verifying_key.name,
                keys.display()
            );
        }
        Command::ZkeyInfo { zkey } => print!("{}", cli::zkey::info(&zkey)?),
        Command::ExportVk {
            keys,
            circuit,
            format: Format::Snarkjs,
            out,
        } => {
            cli::export_verification_key(&keys, &circuit, &out)?;
            println!("verification key in {}", out.display());
        }
        Command::ExportVerifier { keys, circuit, out } => {
            if cli::export_verifier(&keys, &circuit, &out)? {
                eprintln!("warning: development key: anyone who knows its seed can forge proofs this verifier accepts");
            }
            println!("verifier contract in {}", out.display());
        }
        Command::ExportR1cs { circuit, out } => {
            let r1cs = cli::export_r1cs(&circuit, &out)?;
            println!(
                "{circuit}: {} constraints, {} wires, {} public inputs in {}; set up with a powers of tau of power {} or more",
                r1cs.constraints,
                r1cs.wires,
                r1cs.public_inputs,
                out.display(),
                r1cs.ptau_power
            );
        }
        Command::ImportZkey { circuit, zkey, out } => {
            let imported = cli::zkey::import(&circuit, &zkey, &out)?;
            println!(
                "{circuit}: ceremony keys in {} (zkey SHA-256 {}; phase-2 contributions: {})",
                out.display(),
                imported.zkey_sha256,
                imported.contributions
            );
            eprintln!("note: a zkey holds no C matrix: the whole check is `snarkjs zkey verify circuit.r1cs <ptau> {}` with export-r1cs's circuit.r1cs", zkey.display());
        }
        Command::Calldata { proof, public } => {
            println!("{}", cli::calldata(&proof, &public)?);
        }
        Command::Serve {
            process,
            redis,
            keys,
            listen,
            api_keys,
            campaigns,
            cors_origin,
            request_timeout,
            trust_proxy,
            validation_threads,
            validation_queue,
            stream_idle_secs,
            max_streams_per_key,
            max_streams_per_address,
            sealing_key,
            dev_unsealed,
            max_body_bytes,
        } => service::serve(service::Serve {
            process,
            redis,
            keys,
            listen,
            api_keys,
            campaigns,
            cors_origins: cors_origin,
            request_timeout,
            trust_proxy,
            validation_threads,
            validation_queue,
            stream_idle_secs,
            max_streams_per_key,
            max_streams_per_address,
            sealing_key,
            dev_unsealed,
            max_body_bytes,
        })?,
        Command::SealingKey { action } => match action {
            SealingKeyAction::New { out } => {
                let id = airprover::service::sealing_key::create(&out).map_err(|e| Error::Io {
                    path: out.display().to_string(),
                    what: e.to_string(),
                })?;
                println!("sealing key {id} in {} (mode 0600)", out.display());
            }
            SealingKeyAction::Rotate { file } => {
                let id = airprover::service::sealing_key::rotate(&file)
                    .map_err(|e| Error::input("sealing-key", e))?;
                println!(
                    "sealing key {id} added to {} and made current; restart serve to seal with it",
                    file.display()
                );
            }
        },
        Command::ApiKey {
            action: ApiKeyAction::New { name, role },
        } => {
            let role = match role {
                KeyRole::Tenant => airprover::service::http::Role::Tenant,
                KeyRole::Admin => airprover::service::http::Role::Admin,
            };
            let (key, entry) = airprover::service::http::new_api_key(&name, role);
            eprintln!("the key (give it to the client; it is shown once and not stored):");
            println!("{key}");
            eprintln!("its entry for the keys file (serve --api-keys), which holds only its hash:");
            println!("{entry}");
        }
        Command::Worker {
            process,
            redis,
            keys,
            threads,
            id,
            state,
            lease_ms,
            max_deliveries,
            result_ttl,
            dead_letter_ttl,
            task_timeout,
            sealing_key,
            zkey_cache,
            health,
        } => {
            return service::worker(service::Work {
                process,
                redis,
                keys,
                threads,
                id,
                state,
                lease_ms,
                max_deliveries,
                result_ttl,
                dead_letter_ttl,
                task_timeout,
                sealing_key,
                zkey_cache: zkey_cache.cache(),
                health_listen: health.health_listen,
            })
        }
        Command::DeadLetters { action } => service::dead_letters(action)?,
        Command::Workers {
            command: WorkersCommand::ExportKeys { redis, out },
        } => {
            let n = service::export_worker_keys(&redis, &out)?;
            println!("{n} worker key(s) in {}", out.display());
        }
        Command::Relay {
            process,
            redis,
            campaigns,
            id,
            lease_ms,
            poll_ms,
            health,
        } => service::relay(service::Relay {
            process,
            redis,
            campaigns,
            id,
            lease_ms,
            poll_ms,
            health_listen: health.health_listen,
        })?,
        Command::Submit {
            server,
            api_key,
            input,
            circuit,
            proof,
            public,
            priority,
            keys,
            worker_keys,
        } => {
            let api_key = api_key.or_else(|| std::env::var("AIRPROVER_API_KEY").ok());
            // The server's code is kept: its line starts with it (`RATE_LIMITED: ...`).
            if let Err(e) = service::submit(
                &server,
                api_key.as_deref(),
                &input,
                circuit.as_deref(),
                &proof,
                &public,
                &priority,
                keys.as_deref(),
                worker_keys.as_deref(),
            ) {
                eprintln!("{}", cli::error_line(&e));
                return Ok(ExitCode::from(EXIT_ERROR));
            }
            println!(
                "proof in {}, public signals in {}",
                proof.display(),
                public.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What to do with API keys.
#[derive(Debug, Subcommand)]
pub(crate) enum ApiKeyAction {
    /// Make a key: prints the key, then its keys-file entry (name, keySha256, role).
    New {
        /// The key's name (logs, quotas).
        #[arg(long)]
        name: String,
        /// What it may see.
        #[arg(long, value_enum, default_value_t = KeyRole::Tenant)]
        role: KeyRole,
    },
}

/// A key's role.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum KeyRole {
    /// Its own tasks and claims.
    Tenant,
    /// Everything: every task, workers, metrics.
    Admin,
}

/// What to do with the dead letters.
#[derive(Debug, Subcommand)]
pub(crate) enum DeadLetters {
    /// List them, oldest first (one JSON object a line; never their input).
    List {
        #[command(flatten)]
        redis: RedisArgs,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        count: usize,
    },
    /// Queue a dead letter's task again (a new task id, attempts from 0).
    Requeue {
        #[command(flatten)]
        redis: RedisArgs,
        /// The letter's id (from `list`).
        letter: String,
        /// The sealing key file: a sealed input opens only in its own task, so it is sealed
        /// again for the new one.
        #[arg(long, env = "AIRPROVER_SEALING_KEY")]
        sealing_key: Option<PathBuf>,
    },
}

/// What to do with the sealing key file.
#[derive(Debug, Subcommand)]
pub(crate) enum SealingKeyAction {
    /// Make a sealing key file with one new random key (mode 0600; never over an existing file).
    New {
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
    /// Add a new random key to the file and make it the one that seals (the old keys stay, to
    /// open what they sealed; drop them once nothing sealed with them is kept).
    Rotate {
        /// The sealing key file.
        file: PathBuf,
    },
}

fn fail(e: &Error) -> ExitCode {
    eprintln!("{}", cli::error_line(e));
    ExitCode::from(EXIT_ERROR)
}
