//! The claim relayer against real peers: Debian's redis-server and anvil (from the contracts'
//! npm packages) with the contracts deployed by the repo's own script, claims proved by the CLI.
//! Development keys only (setup --seed, anvil's public accounts).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use airprover::relayer::chain::Campaign;
use airprover::relayer::{claims, config};
use airprover::relayer::{Code, Crash, Phase, RelaySettings, Relayer};
use airprover::service::redis::Keys;
use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol;
use serde_json::{json, Value};

use common::{bin, free_port, sha256_hex, write_private};

const CIRCUIT: &str = "threshold-d4-k2";
/// anvil's public development keys: #0 deploys and operates, #2 and #3 relay.
const OPERATOR_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const RELAYER_KEYS: [&str; 2] = [
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];
/// Every claim proves this threshold; the campaign asks for it.
const THRESHOLD: u64 = 5;

sol! {
    #[sol(rpc)]
    interface Operated {
        function setRoot(uint256 root, bool live) external;
        function claimed(uint256 nullifier) external view returns (bool);
        function token() external view returns (address);
    }
    #[sol(rpc)]
    interface Token {
        function balanceOf(address who) external view returns (uint256);
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn airprover(args: &[&str]) -> String {
    let out = Command::new(bin()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "airprover {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A redis-server of its own on a free loopback port, in a temporary directory, append-only.
struct RedisServer {
    child: Child,
    url: String,
    _dir: PathBuf,
}

impl RedisServer {
    fn start(dir: &Path) -> RedisServer {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (make tools installs it)");
        let url = format!("redis://127.0.0.1:{port}/");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        RedisServer {
            child,
            url,
            _dir: dir.to_path_buf(),
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// anvil with a campaign deployed by contracts/scripts/deploy-local.mjs.
struct Chain {
    config: Value,
    rpc: String,
    /// anvil started again by [`Chain::restart_anvil`].
    restarted: Option<Child>,
}

impl Chain {
    /// Stops anvil (SIGTERM: it writes the state deploy-local's --dump-state names) and waits
    /// until it has exited. Returns its port.
    fn stop_anvil(&mut self) -> u16 {
        let pid = self.config["anvilPid"].as_u64().unwrap().to_string();
        assert!(Command::new("kill").arg(&pid).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(30);
        while Command::new("kill")
            .args(["-0", &pid])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
        {
            assert!(Instant::now() < deadline, "anvil did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.config["anvilPid"] = Value::Null;
        self.rpc.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// anvil again on `port`, from the state it dumped.
    fn restart_anvil(&mut self, port: u16, state: &Path) {
        let binary = Command::new("node")
            .current_dir(repo().join("contracts"))
            .args([
                "--input-type=module",
                "-e",
                "import { anvilBinary } from './lib/anvil.mjs'; console.log(anvilBinary());",
            ])
            .output()
            .unwrap();
        assert!(binary.status.success());
        let binary = String::from_utf8(binary.stdout).unwrap();
        let child = Command::new(binary.trim())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--hardfork", "prague", "--load-state"])
            .arg(state)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.restarted = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "anvil did not listen again");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        if let Some(pid) = self.config["anvilPid"].as_u64() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        if let Some(child) = &mut self.restarted {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Keys, claims (one tree each, all for the campaign of a fresh deploy-local chain, proving
/// THRESHOLD) and their proofs, in `dir`.
struct Claims {
    keys: PathBuf,
    files: Vec<(PathBuf, PathBuf, PathBuf)>,
}

fn make_claims(dir: &Path, seeds: std::ops::Range<u64>, campaign: &str) -> Claims {
    let keys = dir.join("keys");
    if !keys.join("manifest.json").exists() {
        airprover(&[
            "setup",
            "--circuit",
            CIRCUIT,
            "--out",
            keys.to_str().unwrap(),
            "--seed",
            "1",
        ]);
    }
    let mut files = Vec::new();
    for seed in seeds {
        let claim = dir.join(format!("claim-{seed}-{campaign}.json"));
        airprover(&[
            "sample",
            "--circuit",
            CIRCUIT,
            "--out",
            claim.to_str().unwrap(),
            "--attestations",
            "12",
            "--seed",
            &seed.to_string(),
            "--campaign",
            campaign,
        ]);
        let mut value: Value =
            serde_json::from_str(&std::fs::read_to_string(&claim).unwrap()).unwrap();
        value["threshold"] = json!(THRESHOLD.to_string());
        std::fs::write(&claim, value.to_string()).unwrap();
        let (proof, public) = prove(&keys, &claim);
        files.push((claim, proof, public));
    }
    Claims { keys, files }
}

fn prove(keys: &Path, claim: &Path) -> (PathBuf, PathBuf) {
    let proof = claim.with_extension("proof.json");
    let public = claim.with_extension("public.json");
    airprover(&[
        "prove",
        "--keys",
        keys.to_str().unwrap(),
        "--input",
        claim.to_str().unwrap(),
        "--proof",
        proof.to_str().unwrap(),
        "--public",
        public.to_str().unwrap(),
    ]);
    (proof, public)
}

/// The campaign id of the airdrop deploy-local puts on a fresh anvil.
fn local_campaign() -> String {
    airprover(&[
        "campaign-id",
        "--chain-id",
        "31337",
        "--deployer",
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "--nonce",
        "2",
    ])
    .trim()
    .to_string()
}

fn deploy(dir: &Path, keys: &Path, first_claim: &Path) -> Chain {
    deploy_with(dir, keys, first_claim, &[])
}

/// [`deploy`], with more options for deploy-local.mjs.
fn deploy_with(dir: &Path, keys: &Path, first_claim: &Path, extra: &[&str]) -> Chain {
    let out = dir.join("chain.json");
    let status = Command::new("node")
        .arg(repo().join("contracts/scripts/deploy-local.mjs"))
        // The CLI under test (this build's), not whatever target/release holds.
        .env("AIRPROVER_BIN", bin())
        .args([
            "--keys",
            keys.to_str().unwrap(),
            "--circuit",
            CIRCUIT,
            "--claim",
            first_claim.to_str().unwrap(),
        ])
        .args(["--port", "0", "--detach", "--out", out.to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::null())
        .status()
        .expect("node");
    assert!(
        status.success(),
        "deploy-local failed (npm ci in contracts/?)"
    );
    let config: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let rpc = config["rpcUrl"].as_str().unwrap().to_string();
    Chain {
        config,
        rpc,
        restarted: None,
    }
}

/// Publishes the tree root of each claim (the first one's is published at deployment).
async fn publish_roots(op: &DynProvider, chain: &Chain, files: &[(PathBuf, PathBuf, PathBuf)]) {
    let airdrop: Address = chain.config["airdrop"].as_str().unwrap().parse().unwrap();
    let operated = Operated::new(airdrop, op);
    for (_, _, public) in files {
        let root: U256 = read_json(public)[0].as_str().unwrap().parse().unwrap();
        operated
            .setRoot(root, true)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
    }
}

fn operator(rpc: &str) -> DynProvider {
    let signer: PrivateKeySigner = OPERATOR_KEY.parse().unwrap();
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(rpc.parse().unwrap())
        .erased()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn body(proof: &Path, public: &Path) -> Value {
    json!({ "proof": read_json(proof), "publicSignals": read_json(public), "circuit": CIRCUIT, "campaign": "local" })
}

fn relayer_config(
    chain: &Chain,
    keys: &Path,
    replace_after_blocks: u64,
) -> Vec<config::CampaignConfig> {
    let text = campaigns_json(chain, keys, replace_after_blocks);
    let env = |name: &str| match name {
        "RELAYER_A" => Some(RELAYER_KEYS[0].to_string()),
        "RELAYER_B" => Some(RELAYER_KEYS[1].to_string()),
        _ => None,
    };
    config::parse(&text, Path::new("/"), &env).unwrap()
}

/// The campaign "local" of `chain`, relayed by anvil's accounts #2 and #3 (their keys in the
/// environment variables RELAYER_A and RELAYER_B).
fn campaigns_json(chain: &Chain, keys: &Path, replace_after_blocks: u64) -> String {
    json!({ "campaigns": [{
        "name": "local",
        "chainId": 31337,
        "rpcUrl": chain.rpc,
        "airdrop": chain.config["airdrop"],
        "circuit": CIRCUIT,
        "keys": keys,
        "relayers": [{ "env": "RELAYER_A" }, { "env": "RELAYER_B" }],
        "replaceAfterBlocks": replace_after_blocks,
    }]})
    .to_string()
}

async fn relayer(
    redis: &RedisServer,
    configs: Vec<config::CampaignConfig>,
    settings: RelaySettings,
) -> Relayer {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    Relayer::connect(configs, client, settings).await.unwrap()
}

/// Every mined transaction whose input holds `nullifier`: (block, hash, from, nonce, success).
async fn carriers(op: &DynProvider, nullifier: U256) -> Vec<String> {
    use alloy::consensus::Transaction as _;
    let needle = nullifier.to_be_bytes::<32>();
    let latest = op.get_block_number().await.unwrap();
    let mut found = Vec::new();
    for number in 0..=latest {
        let Some(block) = op.get_block_by_number(number.into()).full().await.unwrap() else {
            continue;
        };
        for tx in block.transactions.txns() {
            let input = tx.input();
            if input.windows(32).any(|w| w == needle) {
                let hash = *tx.inner.tx_hash();
                let ok = op
                    .get_transaction_receipt(hash)
                    .await
                    .unwrap()
                    .map(|r| r.status());
                found.push(format!(
                    "block {number} {hash} from {} nonce {} ok {ok:?}",
                    tx.inner.signer(),
                    tx.nonce()
                ));
            }
        }
    }
    found
}

fn fast() -> RelaySettings {
    RelaySettings {
        poll: Duration::from_millis(50),
        lease: Duration::from_millis(1500),
        ..RelaySettings::default()
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("relayer-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_are_sent_once_from_two_accounts_whatever_dies_on_the_way() {
    let dir = scratch("once");
    let campaign = local_campaign();
    let claims = make_claims(&dir, 1..51, &campaign);
    let chain = deploy(&dir, &claims.keys, &claims.files[0].0);
    let redis = RedisServer::start(&dir.join("redis"));
    // The other identities' trees are published too.
    let op = operator(&chain.rpc);
    let airdrop: Address = chain.config["airdrop"].as_str().unwrap().parse().unwrap();
    let operated = Operated::new(airdrop, &op);
    publish_roots(&op, &chain, &claims.files[1..]).await;
    let relayer = relayer(&redis, relayer_config(&chain, &claims.keys, 3), fast()).await;
    assert_eq!(
        relayer.campaigns_view()["campaigns"][0]["campaignId"],
        json!(campaign)
    );
    let shown = relayer.campaigns_view().to_string();
    for key in RELAYER_KEYS {
        assert!(
            !shown.contains(&key[2..]),
            "a relayer key in GET /v1/campaigns"
        );
    }

    // Three claims die at each step of sending and are finished by a fresh driver.
    let mut ids = Vec::new();
    for (i, crash) in [
        Crash::AfterAllocate,
        Crash::AfterRecord,
        Crash::AfterBroadcast,
    ]
    .into_iter()
    .enumerate()
    {
        let (proof, public) = (&claims.files[i].1, &claims.files[i].2);
        let (id, phase) = relayer.submit(&body(proof, public)).await.unwrap();
        assert_eq!(phase, Phase::Verified);
        // The same proof again is the same claim.
        assert_eq!(relayer.submit(&body(proof, public)).await.unwrap().0, id);
        assert!(
            relayer.drive(&id, Some(crash), None).await.is_err(),
            "{crash:?}"
        );
        ids.push(id);
    }
    for id in &ids {
        assert_eq!(
            relayer.drive(id, None, None).await.unwrap(),
            Phase::Confirmed
        );
    }
    // Five claims, each followed by two drivers at once (a worker that stalled past its lease
    // while another took the claim over): whichever records first sends, the other follows.
    let mut twice = tokio::task::JoinSet::new();
    for (_, proof, public) in &claims.files[3..8] {
        let id = relayer.submit(&body(proof, public)).await.unwrap().0;
        for _ in 0..2 {
            let (relayer, id) = (relayer.clone(), id.clone());
            twice.spawn(async move { relayer.drive(&id, None, None).await });
        }
        ids.push(id);
    }
    while let Some(phase) = twice.join_next().await {
        assert_eq!(phase.unwrap().unwrap(), Phase::Confirmed);
    }
    // The rest through two workers of the queue (the entries of the claims above are reclaimed
    // and found ended).
    for (_, proof, public) in &claims.files[8..] {
        ids.push(relayer.submit(&body(proof, public)).await.unwrap().0);
    }
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = ["w1", "w2"]
        .into_iter()
        .map(|name| {
            let relayer = relayer.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move { relayer.run_worker(name, shutdown).await })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut done = 0;
        let mut open = Vec::new();
        for id in &ids {
            let status = relayer.status(id).await.unwrap();
            if status["phase"] == "confirmed" {
                done += 1;
            } else {
                open.push(status);
            }
        }
        if done == ids.len() {
            break;
        }
        if Instant::now() >= deadline || open.iter().any(|s| s["phase"] == "failed") {
            let mut carried = Vec::new();
            for status in &open {
                let nullifier: U256 = status["nullifier"].as_str().unwrap().parse().unwrap();
                carried.push(carriers(&op, nullifier).await);
            }
            panic!(
                "{done} of {} confirmed; the others: {open:?}; the transactions on-chain that carry their nullifiers: {carried:?}",
                ids.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.send(true).unwrap();
    for w in workers {
        w.await.unwrap().unwrap();
    }

    // On-chain: every nullifier used, every claimant paid once, each account's nonces without gaps.
    let token = Token::new(operated.token().call().await.unwrap(), &op);
    let mut sent = std::collections::HashMap::<String, Vec<u64>>::new();
    for (id, (_, _, public)) in ids.iter().zip(&claims.files) {
        let status = relayer.status(id).await.unwrap();
        let signals = read_json(public);
        let nullifier: U256 = signals[3].as_str().unwrap().parse().unwrap();
        assert!(operated.claimed(nullifier).call().await.unwrap());
        let claimant =
            Address::from_word(signals[2].as_str().unwrap().parse::<U256>().unwrap().into());
        assert_eq!(
            token.balanceOf(claimant).call().await.unwrap(),
            U256::from(10u64).pow(U256::from(18))
        );
        // A claim may have been replaced (same nonce, higher fees) while it waited behind a
        // nonce another claim had not sent yet: only one of its transactions is ever mined.
        let sent_txs = status["transactions"].as_array().unwrap();
        let mut mined = 0;
        for tx in sent_txs {
            let hash: alloy::primitives::TxHash = tx.as_str().unwrap().parse().unwrap();
            if op.get_transaction_receipt(hash).await.unwrap().is_some() {
                mined += 1;
                assert_eq!(status["txHash"], *tx, "{status}");
            }
        }
        assert_eq!(mined, 1, "{status}");
        assert!(
            status["block"].as_u64().is_some() && status["gasUsed"].as_u64().is_some(),
            "{status}"
        );
        sent.entry(status["account"].as_str().unwrap().to_string())
            .or_default()
            .push(status["nonce"].as_u64().unwrap());
    }
    assert_eq!(sent.len(), 2, "both relayer accounts sent claims: {sent:?}");
    for (account, mut nonces) in sent {
        nonces.sort_unstable();
        assert_eq!(
            nonces,
            (0..nonces.len() as u64).collect::<Vec<_>>(),
            "{account}"
        );
        let on_chain = op
            .get_transaction_count(account.parse().unwrap())
            .await
            .unwrap();
        assert_eq!(
            on_chain,
            nonces.len() as u64,
            "{account}: one transaction per claim, none lost"
        );
    }

    // A used nullifier with another proof (the same identity, another claimant): refused.
    let (claim, _, _) = &claims.files[0];
    let mut other = read_json(claim);
    other["claimant"] = json!("0x000000000000000000000000000000000000dEaD");
    let other_path = dir.join("claim-1-dead.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    let (proof, public) = prove(&claims.keys, &other_path);
    let err = relayer.submit(&body(&proof, &public)).await.unwrap_err();
    assert_eq!(err.code, Code::NullifierUsed, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_have_their_code_and_send_nothing() {
    let dir = scratch("refusals");
    let campaign = local_campaign();
    let claims = make_claims(&dir, 20..22, &campaign);
    let chain = deploy(&dir, &claims.keys, &claims.files[0].0);
    let redis = RedisServer::start(&dir.join("redis"));
    let relayer = relayer(&redis, relayer_config(&chain, &claims.keys, 3), fast()).await;
    let op = operator(&chain.rpc);
    let nonces = || async {
        let mut n = Vec::new();
        for key in RELAYER_KEYS {
            let signer: PrivateKeySigner = key.parse().unwrap();
            n.push(op.get_transaction_count(signer.address()).await.unwrap());
        }
        n
    };
    let before = nonces().await;
    let (claim, proof, public) = &claims.files[0];
    let good = body(proof, public);

    // A tampered proof: A and C swapped.
    let mut tampered = good.clone();
    let a = tampered["proof"]["pi_a"].clone();
    tampered["proof"]["pi_a"] = tampered["proof"]["pi_c"].clone();
    tampered["proof"]["pi_c"] = a;
    // Another campaign: the claim proved for campaign 77.
    let other = make_claims(&dir.join("other"), 20..21, "77");
    // An unpublished root: the second identity's tree is never published.
    let (_, unpublished_proof, unpublished_public) = &claims.files[1];
    // A threshold below the campaign's.
    let mut low = read_json(claim);
    low["threshold"] = json!((THRESHOLD - 1).to_string());
    let low_path = dir.join("low.json");
    std::fs::write(&low_path, low.to_string()).unwrap();
    let (low_proof, low_public) = prove(&claims.keys, &low_path);

    let cases: Vec<(&str, Value, Code)> = vec![
        ("tampered proof", tampered, Code::InvalidProof),
        (
            "signals changed",
            {
                let mut b = good.clone();
                b["publicSignals"][2] = json!("1");
                b
            },
            Code::InvalidProof,
        ),
        (
            "another campaign",
            body(&other.files[0].1, &other.files[0].2),
            Code::WrongCampaign,
        ),
        (
            "unpublished root",
            body(unpublished_proof, unpublished_public),
            Code::RootNotPublished,
        ),
        (
            "threshold below",
            body(&low_proof, &low_public),
            Code::ThresholdBelowCampaign,
        ),
        (
            "unknown campaign",
            {
                let mut b = good.clone();
                b["campaign"] = json!("nope");
                b
            },
            Code::UnknownCampaign,
        ),
        (
            "another circuit",
            {
                let mut b = good.clone();
                b["circuit"] = json!("threshold-d4-k1");
                b
            },
            Code::InvalidInput,
        ),
        (
            "unknown field",
            {
                let mut b = good.clone();
                b["secret"] = json!("1");
                b
            },
            Code::InvalidInput,
        ),
        (
            "missing field",
            {
                let mut b = good.clone();
                b.as_object_mut().unwrap().remove("proof");
                b
            },
            Code::InvalidInput,
        ),
        (
            "malformed proof",
            {
                let mut b = good.clone();
                b["proof"]["pi_a"] = json!(["x"]);
                b
            },
            Code::InvalidProof,
        ),
    ];
    for (what, body, code) in cases {
        let err = relayer.submit(&body).await.unwrap_err();
        assert_eq!(err.code, code, "{what}: {err}");
        assert!(
            err.code.http_status() >= 400 && err.code.http_status() < 500,
            "{what}"
        );
    }

    // In flight: another proof of the same identity is refused while the first is pending.
    let (id, _) = relayer.submit(&good).await.unwrap();
    let mut same_identity = read_json(claim);
    same_identity["claimant"] = json!("0x000000000000000000000000000000000000bEEF");
    let same_path = dir.join("same.json");
    std::fs::write(&same_path, same_identity.to_string()).unwrap();
    let (same_proof, same_public) = prove(&claims.keys, &same_path);
    let err = relayer
        .submit(&body(&same_proof, &same_public))
        .await
        .unwrap_err();
    assert_eq!(err.code, Code::NullifierPending, "{err}");
    assert_eq!(nonces().await, before, "nothing was sent for a refusal");
    assert_eq!(
        relayer.drive(&id, None, None).await.unwrap(),
        Phase::Confirmed
    );
    // Replayed: the same request again answers the same, confirmed claim; nothing more is sent.
    let (again, phase) = relayer.submit(&good).await.unwrap();
    assert_eq!((again.as_str(), phase), (id.as_str(), Phase::Confirmed));
    let after: u64 = nonces().await.iter().sum();
    assert_eq!(after, before.iter().sum::<u64>() + 1);
    let err = relayer.status("0123").await.unwrap_err();
    assert_eq!(err.code, Code::UnknownClaim);
    let err = relayer.status("../../etc").await.unwrap_err();
    assert_eq!(err.code, Code::UnknownClaim);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stuck_transaction_is_replaced_with_higher_fees() {
    let dir = scratch("stuck");
    let campaign = local_campaign();
    let claims = make_claims(&dir, 30..31, &campaign);
    let chain = deploy(&dir, &claims.keys, &claims.files[0].0);
    let redis = RedisServer::start(&dir.join("redis"));
    let relayer = relayer(&redis, relayer_config(&chain, &claims.keys, 2), fast()).await;
    let op = operator(&chain.rpc);
    rpc(&op, "evm_setAutomine", json!([false])).await;
    let (id, _) = relayer
        .submit(&body(&claims.files[0].1, &claims.files[0].2))
        .await
        .unwrap();
    let driving = {
        let relayer = relayer.clone();
        let id = id.clone();
        tokio::spawn(async move { relayer.drive(&id, None, None).await })
    };
    let sent = |n: usize| {
        wait_for(&relayer, &id, 30, move |s| {
            s["transactions"].as_array().map_or(0, |t| t.len()) >= n
        })
    };
    let first = sent(1).await;
    // A worker that follows the claim while another one owns its queue entry stops at its
    // first heartbeat, without sending anything.
    let mut conn = redis::Client::open(redis.url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let read: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(claims::GROUP)
        .arg("owner")
        .arg("COUNT")
        .arg(1)
        .arg("STREAMS")
        .arg(Keys::default().claims())
        .arg(">")
        .query_async(&mut conn)
        .await
        .unwrap();
    let entry = read.keys[0].ids[0].id.clone();
    let other = tokio::time::timeout(
        Duration::from_secs(10),
        relayer.drive(&id, None, Some((&entry, "not-the-owner"))),
    )
    .await
    .expect("a driver whose entry another worker owns stops")
    .unwrap_err();
    assert!(other.message.contains("took the claim over"), "{other:?}");
    assert_eq!(
        relayer.status(&id).await.unwrap()["transactions"],
        first["transactions"]
    );
    // The owner's own heartbeat keeps following (the claim stays pending: no block is mined).
    assert!(tokio::time::timeout(
        Duration::from_secs(2),
        relayer.drive(&id, None, Some((&entry, "owner")))
    )
    .await
    .is_err());
    // The base fee jumps above what the first transaction offers: blocks pass without it.
    rpc(
        &op,
        "anvil_setNextBlockBaseFeePerGas",
        json!([format!("0x{:x}", 200_000_000_000u64)]),
    )
    .await;
    for _ in 0..3 {
        rpc(&op, "evm_mine", json!([])).await;
    }
    let replaced = sent(2).await;
    assert_eq!(
        replaced["nonce"], first["nonce"],
        "a replacement keeps the nonce"
    );
    rpc(&op, "evm_mine", json!([])).await;
    rpc(&op, "evm_setAutomine", json!([true])).await;
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(30), driving)
            .await
            .unwrap()
            .unwrap()
            .unwrap(),
        Phase::Confirmed
    );
    let status = relayer.status(&id).await.unwrap();
    let txs = status["transactions"].as_array().unwrap();
    assert_eq!(
        status["txHash"],
        txs[txs.len() - 1],
        "the replacement was mined: {status}"
    );
    let first_hash: alloy::primitives::TxHash = txs[0].as_str().unwrap().parse().unwrap();
    assert!(
        op.get_transaction_receipt(first_hash)
            .await
            .unwrap()
            .is_none(),
        "the stuck one never was"
    );
    let account: Address = status["account"].as_str().unwrap().parse().unwrap();
    assert_eq!(op.get_transaction_count(account).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_whose_contract_is_not_bound_is_refused_at_start() {
    let dir = scratch("connect");
    let campaign = local_campaign();
    let claims = make_claims(&dir, 40..41, &campaign);
    let chain = deploy(&dir, &claims.keys, &claims.files[0].0);
    let mut configs = relayer_config(&chain, &claims.keys, 3);
    configs[0].chain_id = 1;
    let err = Campaign::connect(configs.remove(0)).await.unwrap_err();
    assert_eq!(err.code, Code::Misconfigured);
    assert!(err.message.contains("chain 31337"), "{err}");
    let mut configs = relayer_config(&chain, &claims.keys, 3);
    // The token is not an airdrop: its calls revert or return nothing.
    configs[0].airdrop = chain.config["token"].as_str().unwrap().parse().unwrap();
    assert!(Campaign::connect(configs.remove(0)).await.is_err());
}

/// `serve` never loads a relayer key (issue 29, item 4): with a campaigns file whose keys are
/// nowhere (an unset variable, a missing file) it starts, checks claims and lists the accounts
/// the file gives; `relay`, which signs, refuses the same file, naming the variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reads_no_relayer_key() {
    let dir = scratch("serve-no-keys");
    let campaign = local_campaign();
    let claims = make_claims(&dir, 45..46, &campaign);
    let mut chain = deploy(&dir, &claims.keys, &claims.files[0].0);
    let redis = RedisServer::start(&dir);
    let account = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    let mut file: Value = serde_json::from_str(&campaigns_json(&chain, &claims.keys, 3)).unwrap();
    file["campaigns"][0]["relayers"] = json!([
        { "env": "AIRPROVER_TEST_UNSET_RELAYER_KEY", "address": account },
        { "file": "/nowhere/relayer.key" },
    ]);
    let campaigns = dir.join("campaigns-public.json");
    std::fs::write(&campaigns, file.to_string()).unwrap();
    // Three API keys: tenants a and b, and an admin.
    let (key_a, key_b, admin) = (
        "tenant-a-0123456789",
        "tenant-b-0123456789",
        "admin-0123456789ab",
    );
    let api_keys = dir.join("api-keys.json");
    write_private(
        &api_keys,
        &json!({ "keys": [
            { "name": "a", "keySha256": sha256_hex(key_a) },
            { "name": "b", "keySha256": sha256_hex(key_b) },
            { "name": "ops", "keySha256": sha256_hex(admin), "role": "admin" },
        ]})
        .to_string(),
    );
    let port = free_port();
    let mut serve = Command::new(bin())
        .args([
            "serve",
            "--redis",
            &redis.url,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--keys")
        .arg(&claims.keys)
        .arg("--api-keys")
        .arg(&api_keys)
        // Relayed claims hold no secret: nothing to seal.
        .arg("--dev-unsealed")
        .arg("--campaigns")
        .arg(&campaigns)
        .env_remove("AIRPROVER_TEST_UNSET_RELAYER_KEY")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/v1/campaigns");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let listed: Value = loop {
        if let Ok(r) = reqwest::get(&url).await {
            break r.json().await.unwrap();
        }
        assert!(serve.try_wait().unwrap().is_none(), "serve exited");
        assert!(std::time::Instant::now() < deadline, "serve did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        listed["campaigns"][0]["relayers"],
        json!([account]),
        "{listed}"
    );
    // A relayed claim belongs to the keys that submitted it (issue 29, item 1): another tenant
    // gets 404 UNKNOWN_CLAIM as for none; an admin sees it; a second submitter owns it too.
    let http = reqwest::Client::new();
    let claims_url = format!("http://127.0.0.1:{port}/v1/claims");
    let (_, proof, public) = &claims.files[0];
    let post = |key: &'static str| {
        http.post(&claims_url)
            .bearer_auth(key)
            .json(&body(proof, public))
            .send()
    };
    let created = post(key_a).await.unwrap();
    assert_eq!(created.status(), 202);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let get = |key: &'static str| {
        http.get(format!("{claims_url}/{id}"))
            .bearer_auth(key)
            .send()
    };
    assert_eq!(get(key_a).await.unwrap().status(), 200);
    assert_eq!(get(admin).await.unwrap().status(), 200);
    let theirs = get(key_b).await.unwrap();
    assert_eq!(theirs.status(), 404);
    assert_eq!(
        theirs.json::<Value>().await.unwrap()["code"],
        "UNKNOWN_CLAIM"
    );
    let events = http
        .get(format!("{claims_url}/{id}/events"))
        .bearer_auth(key_b)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 404);
    let again = post(key_b).await.unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], json!(id));
    assert_eq!(get(key_b).await.unwrap().status(), 200);
    // Readiness: the campaign's RPC down makes only the claim routes not ready, never proving.
    let ready_url = format!("http://127.0.0.1:{port}/ready");
    let ready = reqwest::get(&ready_url).await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["parts"]["campaign:local"]["status"], "ok", "{ready}");
    assert_eq!(ready["routes"]["claims"], "ready", "{ready}");
    chain.stop_anvil();
    let ready = reqwest::get(&ready_url).await.unwrap();
    assert_eq!(ready.status(), 200, "proving stays ready");
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(
        ready["parts"]["campaign:local"]["status"], "down",
        "{ready}"
    );
    assert_eq!(
        ready["parts"]["campaign:local"]["code"], "CHAIN_UNAVAILABLE",
        "{ready}"
    );
    assert_eq!(
        ready["parts"]["campaign:local"]["required"], false,
        "{ready}"
    );
    assert_eq!(ready["routes"]["claims"], "not_ready", "{ready}");
    assert_eq!(ready["routes"]["proofs"], "ready", "{ready}");
    let _ = serve.kill();
    let _ = serve.wait();
    let out = Command::new(bin())
        .args(["relay", "--redis", &redis.url, "--campaigns"])
        .arg(&campaigns)
        .env_remove("AIRPROVER_TEST_UNSET_RELAYER_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("AIRPROVER_TEST_UNSET_RELAYER_KEY"),
        "{out:?}"
    );
}

/// `airprover relay` as its own process, its log in `dir/<id>.log`.
struct RelayProcess {
    child: Child,
    log: PathBuf,
}

impl RelayProcess {
    fn start(dir: &Path, redis: &RedisServer, campaigns: &Path, id: &str) -> RelayProcess {
        RelayProcess::start_with(dir, redis, campaigns, id, &["--lease-ms", "1500"])
    }

    /// [`RelayProcess::start`] with other arguments (a lease, `--health-listen`).
    fn start_with(
        dir: &Path,
        redis: &RedisServer,
        campaigns: &Path,
        id: &str,
        args: &[&str],
    ) -> RelayProcess {
        let log = dir.join(format!("{id}.log"));
        let child = Command::new(bin())
            .args(["relay", "--redis", &redis.url, "--id", id])
            .args(["--poll-ms", "50"])
            .args(args)
            .arg("--campaigns")
            .arg(campaigns)
            .env("RELAYER_A", RELAYER_KEYS[0])
            .env("RELAYER_B", RELAYER_KEYS[1])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        RelayProcess { child, log }
    }

    /// SIGKILL: nothing of it runs after this.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn rpc(op: &DynProvider, method: &'static str, params: Value) -> Value {
    op.raw_request::<_, Value>(method.into(), params)
        .await
        .unwrap()
}

/// Waits up to `secs` for the claim's status to satisfy `done`, and returns it.
async fn wait_for(relayer: &Relayer, id: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let status = relayer.status(id).await.unwrap();
        if done(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Of the claim's transactions (all of one nonce), how many the chain has mined.
async fn mined(op: &DynProvider, status: &Value) -> usize {
    let mut mined = 0;
    for tx in status["transactions"].as_array().unwrap() {
        let hash: alloy::primitives::TxHash = tx.as_str().unwrap().parse().unwrap();
        if op.get_transaction_receipt(hash).await.unwrap().is_some() {
            mined += 1;
        }
    }
    mined
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relay_process_killed_right_after_sending_leaves_one_transaction() {
    let dir = scratch("sigkill");
    let campaign = local_campaign();
    let claims = make_claims(&dir, 50..51, &campaign);
    let chain = deploy(&dir, &claims.keys, &claims.files[0].0);
    let redis = RedisServer::start(&dir.join("redis"));
    let campaigns = dir.join("campaigns.json");
    std::fs::write(&campaigns, campaigns_json(&chain, &claims.keys, 3)).unwrap();
    // This process plays `serve`'s part (it takes the claim); `airprover relay` processes send it.
    let api = relayer(&redis, relayer_config(&chain, &claims.keys, 3), fast()).await;
    let op = operator(&chain.rpc);
    // Blocks are mined only when the test says: the transaction waits in the pool.
    rpc(&op, "evm_setAutomine", json!([false])).await;
    let (id, _) = api
        .submit(&body(&claims.files[0].1, &claims.files[0].2))
        .await
        .unwrap();
    let mut first = RelayProcess::start(&dir, &redis, &campaigns, "r1");
    let sent = wait_for(&api, &id, 60, |s| s["phase"] == "submitted").await;
    let hash = sent["txHash"].clone();
    let pooled = rpc(&op, "eth_getTransactionByHash", json!([hash])).await;
    assert_eq!(pooled["hash"], hash, "the transaction is in anvil's pool");
    first.kill();
    // Mined while no relayer is alive; a new process finds it on-chain and sends nothing.
    rpc(&op, "evm_mine", json!([])).await;
    let second = RelayProcess::start(&dir, &redis, &campaigns, "r2");
    let status = wait_for(&api, &id, 60, |s| s["phase"] == "confirmed").await;
    assert_eq!(status["txHash"], hash, "{status}");
    assert_eq!(
        status["transactions"].as_array().unwrap().len(),
        1,
        "{status}"
    );
    assert_eq!(mined(&op, &status).await, 1);
    let account: Address = status["account"].as_str().unwrap().parse().unwrap();
    assert_eq!(op.get_transaction_count(account).await.unwrap(), 1);
    let airdrop: Address = chain.config["airdrop"].as_str().unwrap().parse().unwrap();
    let nullifier: U256 = status["nullifier"].as_str().unwrap().parse().unwrap();
    assert!(Operated::new(airdrop, &op)
        .claimed(nullifier)
        .call()
        .await
        .unwrap());
    for log in [first.log(), second.log()] {
        assert!(log.contains("relayer worker started"), "{log}");
        for key in RELAYER_KEYS {
            assert!(!log.contains(&key[2..]), "a relayer key in the log");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_wait_out_an_unreachable_chain_and_are_sent_once() {
    let dir = scratch("unreachable");
    let campaign = local_campaign();
    let claims = make_claims(&dir, 60..64, &campaign);
    let state = dir.join("anvil-state.json");
    let mut chain = deploy_with(
        &dir,
        &claims.keys,
        &claims.files[0].0,
        &["--dump-state", state.to_str().unwrap()],
    );
    let op = operator(&chain.rpc);
    publish_roots(&op, &chain, &claims.files[1..]).await;
    let redis = RedisServer::start(&dir.join("redis"));
    let relayer = relayer(&redis, relayer_config(&chain, &claims.keys, 3), fast()).await;
    let mut ids = Vec::new();
    for (_, proof, public) in &claims.files {
        ids.push(relayer.submit(&body(proof, public)).await.unwrap().0);
    }
    // Two claims are sent and wait in the pool (automine off) when the chain goes away; the
    // other two were never sent.
    rpc(&op, "evm_setAutomine", json!([false])).await;
    let drivers: Vec<_> = ids[..2]
        .iter()
        .map(|id| {
            let relayer = relayer.clone();
            let id = id.clone();
            tokio::spawn(async move { relayer.drive(&id, None, None).await })
        })
        .collect();
    for id in &ids[..2] {
        wait_for(&relayer, id, 60, |s| s["phase"] == "submitted").await;
    }
    for driver in drivers {
        driver.abort();
    }
    let port = chain.stop_anvil();
    assert!(state.exists(), "anvil dumped its state");

    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = ["w1", "w2"]
        .into_iter()
        .map(|name| {
            let relayer = relayer.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move { relayer.run_worker(name, shutdown).await })
        })
        .collect();
    // Unreachable for longer than a lease, with backoffs longer than one: the claims wait, none
    // fails, and each stays with the worker that took it (delivered once).
    tokio::time::sleep(Duration::from_secs(6)).await;
    for (i, id) in ids.iter().enumerate() {
        let status = relayer.status(id).await.unwrap();
        let expected = if i < 2 { "submitted" } else { "verified" };
        assert_eq!(status["phase"], expected, "{status}");
    }
    let mut conn = redis::Client::open(redis.url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
        .arg(Keys::default().claims())
        .arg(claims::GROUP)
        .arg("-")
        .arg("+")
        .arg(100)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(pending.len(), ids.len(), "{pending:?}");
    for (_, _, _, deliveries) in &pending {
        assert_eq!(
            *deliveries, 1,
            "a claim changed workers while it waited: {pending:?}"
        );
    }
    chain.restart_anvil(port, &state);
    for id in &ids {
        wait_for(&relayer, id, 90, |s| s["phase"] == "confirmed").await;
    }
    stop.send(true).unwrap();
    for w in workers {
        w.await.unwrap().unwrap();
    }
    let mut sent = std::collections::HashMap::<String, u64>::new();
    for id in &ids {
        let status = relayer.status(id).await.unwrap();
        assert_eq!(mined(&op, &status).await, 1, "{status}");
        *sent
            .entry(status["account"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    for (account, count) in sent {
        let on_chain = op
            .get_transaction_count(account.parse().unwrap())
            .await
            .unwrap();
        assert_eq!(on_chain, count, "{account}: none sent twice");
    }
}

/// A claim's nullifier (issue 29, item 10): a failed claim frees it at once, a confirmed one's
/// index expires together with its record, and an index whose record is gone (left by an
/// earlier version, crafted here) no longer answers "pending" forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nullifier_is_freed_by_failure_and_expires_with_its_claim() {
    let dir = scratch("nullifiers");
    let redis = RedisServer::start(&dir.join("redis"));
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    let conn = redis::aio::ConnectionManager::new(client).await.unwrap();
    let store = claims::Claims::new(conn.clone(), Keys::default())
        .await
        .unwrap();
    let call = alloy::primitives::Bytes::from(vec![1u8, 2, 3]);
    let claimant = Address::repeat_byte(7);
    let create = |id: &'static str, nullifier: u64| {
        let (store, call) = (store.clone(), call.clone());
        async move {
            store
                .create(
                    id,
                    "demo",
                    &call,
                    &U256::from(nullifier),
                    &claimant,
                    id,
                    1,
                    0,
                )
                .await
                .unwrap()
        }
    };
    let record = |id: &'static str| {
        let store = store.clone();
        async move { store.get(id).await.unwrap().unwrap() }
    };

    // Failed: freed at once, a new claim takes the nullifier.
    assert_eq!(create("a1", 1).await, "a1");
    assert_eq!(create("a2", 1).await, "a1", "taken while a1 is open");
    let failed = json!({ "code": "REVERTED", "message": "test" });
    assert!(store
        .settle(
            &record("a1").await,
            Phase::Failed,
            &failed,
            3600,
            claims::SettleIf::Open
        )
        .await
        .unwrap());
    assert!(store
        .by_nullifier("demo", &U256::from(1))
        .await
        .unwrap()
        .is_none());
    assert_eq!(create("a3", 1).await, "a3");

    // Confirmed: the index lives as long as the record, then both are gone.
    assert_eq!(create("b1", 2).await, "b1");
    let confirmed = json!({ "txHash": "0x00", "block": 1, "gasUsed": 1 });
    assert!(store
        .settle(
            &record("b1").await,
            Phase::Confirmed,
            &confirmed,
            1,
            claims::SettleIf::Open
        )
        .await
        .unwrap());
    assert_eq!(create("b2", 2).await, "b1", "held while its record lives");
    let mut c = conn.clone();
    let ttl: i64 = redis::cmd("TTL")
        .arg("airprover:nullifier:demo:2")
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(
        (0..=1).contains(&ttl),
        "the index expires with the record: TTL {ttl}"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(store.get("b1").await.unwrap().is_none());
    let index: Option<String> = redis::cmd("GET")
        .arg("airprover:nullifier:demo:2")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(index, None);

    // A stale index pointing at no record (crafted) is not "pending" forever.
    let _: () = redis::cmd("SET")
        .arg("airprover:nullifier:demo:3")
        .arg("gone")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(create("c1", 3).await, "c1");
}

const GWEI: u128 = 1_000_000_000;

/// anvil's public development key #4: sends copies of claims' calldata in the tests.
const OTHER_KEY: &str = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";

/// The base fee of the next block anvil mines.
async fn next_base_fee(op: &DynProvider, wei: u128) {
    rpc(
        op,
        "anvil_setNextBlockBaseFeePerGas",
        json!([format!("0x{wei:x}")]),
    )
    .await;
}

/// The phases of the claim's event stream, in order.
async fn phases(redis: &RedisServer, id: &str) -> Vec<String> {
    let mut conn = redis::Client::open(redis.url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let events: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(Keys::default().claim_events(id))
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    events
        .ids
        .iter()
        .map(|e| e.get::<String>("type").unwrap())
        .collect()
}

/// `maxFeePerGas` of a transaction the node has.
async fn max_fee_of(op: &DynProvider, hash: &Value) -> u128 {
    use alloy::consensus::Transaction as _;
    let hash: alloy::primitives::TxHash = hash.as_str().unwrap().parse().unwrap();
    op.get_transaction_by_hash(hash)
        .await
        .unwrap()
        .unwrap()
        .max_fee_per_gas()
}

fn spawn_drive(relayer: &Relayer, id: &str) -> tokio::task::JoinHandle<Phase> {
    let (relayer, id) = (relayer.clone(), id.to_string());
    tokio::spawn(async move { relayer.drive(&id, None, None).await.unwrap() })
}

/// Issue 29, item 11.1: with `maxFeePerGasWei`, a claim whose first transaction would need more
/// sends nothing and waits (`waiting_for_fees`) until the base fee comes down; one whose
/// replacement would need more sends no other and waits, and its last transaction is mined once
/// fees allow. Nothing ever offers more than the ceiling.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_wait_while_fees_are_above_the_ceiling() {
    let dir = scratch("ceiling");
    let campaign = local_campaign();
    let claims = make_claims(&dir, 70..72, &campaign);
    let chain = deploy(&dir, &claims.keys, &claims.files[0].0);
    let op = operator(&chain.rpc);
    publish_roots(&op, &chain, &claims.files[1..]).await;
    let redis = RedisServer::start(&dir.join("redis"));
    let mut configs = relayer_config(&chain, &claims.keys, 2);
    let ceiling = 10 * GWEI;
    configs[0].max_fee_per_gas = Some(ceiling);
    let relayer = relayer(&redis, configs, fast()).await;
    let sent_by_relayers = || async {
        let mut n = 0;
        for key in RELAYER_KEYS {
            let signer: PrivateKeySigner = key.parse().unwrap();
            n += op.get_transaction_count(signer.address()).await.unwrap();
        }
        n
    };

    // The first transaction: the base fee is 50 gwei, five times the ceiling.
    next_base_fee(&op, 50 * GWEI).await;
    rpc(&op, "evm_mine", json!([])).await;
    let (id, _) = relayer
        .submit(&body(&claims.files[0].1, &claims.files[0].2))
        .await
        .unwrap();
    let driving = spawn_drive(&relayer, &id);
    let waiting = wait_for(&relayer, &id, 30, |s| s["phase"] == "waiting_for_fees").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = relayer.status(&id).await.unwrap();
    assert_eq!(status["phase"], "waiting_for_fees", "{status}");
    assert!(waiting.get("transactions").is_none(), "{waiting}");
    assert!(
        status.get("nonce").is_none(),
        "no nonce taken while waiting: {status}"
    );
    assert_eq!(sent_by_relayers().await, 0);
    assert_eq!(
        phases(&redis, &id).await,
        ["received", "verified", "waiting_for_fees"],
        "one event per wait, however many polls"
    );
    // Fees come down: the claim is sent, under the ceiling, and confirmed.
    next_base_fee(&op, GWEI).await;
    rpc(&op, "evm_mine", json!([])).await;
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(30), driving)
            .await
            .unwrap()
            .unwrap(),
        Phase::Confirmed
    );
    let status = relayer.status(&id).await.unwrap();
    assert!(max_fee_of(&op, &status["txHash"]).await <= ceiling);
    assert_eq!(
        phases(&redis, &id).await,
        [
            "received",
            "verified",
            "waiting_for_fees",
            "submitted",
            "confirmed"
        ]
    );

    // A replacement: sent at about 2 gwei, then the base fee jumps to 200 gwei while blocks pass
    // without it. One replacement fits under the ceiling (at the ceiling); the next would not.
    rpc(&op, "evm_setAutomine", json!([false])).await;
    let (id, _) = relayer
        .submit(&body(&claims.files[1].1, &claims.files[1].2))
        .await
        .unwrap();
    let driving = spawn_drive(&relayer, &id);
    let first = wait_for(&relayer, &id, 30, |s| s["phase"] == "submitted").await;
    next_base_fee(&op, 200 * GWEI).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let waiting = loop {
        let status = relayer.status(&id).await.unwrap();
        if status["phase"] == "waiting_for_fees" {
            break status;
        }
        assert!(Instant::now() < deadline, "{status}");
        rpc(&op, "evm_mine", json!([])).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let txs = waiting["transactions"].as_array().unwrap().clone();
    assert_eq!(txs.len(), 2, "one replacement, at the ceiling: {waiting}");
    assert_eq!(txs[0], first["txHash"]);
    // What each signed transaction offers, as recorded (anvil drops a transaction whose fee cap
    // is below the base fee from its pool, and refuses one when it is broadcast).
    let recorded = relayer.claims().get(&id).await.unwrap().unwrap().txs;
    assert!(recorded[0].max_fee < ceiling, "{recorded:?}");
    assert_eq!(recorded[1].max_fee, ceiling, "{recorded:?}");
    for _ in 0..3 {
        rpc(&op, "evm_mine", json!([])).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = relayer.status(&id).await.unwrap();
    assert_eq!(status["phase"], "waiting_for_fees", "{status}");
    assert_eq!(
        status["transactions"].as_array().unwrap().len(),
        2,
        "{status}"
    );
    // The base fee falls below what the replacement offers: it is (broadcast again and) mined.
    next_base_fee(&op, GWEI).await;
    rpc(&op, "evm_mine", json!([])).await;
    rpc(&op, "evm_setAutomine", json!([true])).await;
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(30), driving)
            .await
            .unwrap()
            .unwrap(),
        Phase::Confirmed
    );
    let status = relayer.status(&id).await.unwrap();
    assert_eq!(status["txHash"], txs[1], "{status}");
    assert_eq!(mined(&op, &status).await, 1);
    assert_eq!(
        sent_by_relayers().await,
        2,
        "one transaction per claim mined"
    );
}

/// Issue 29, item 11.2 and 11.3: with `confirmations` 3 a mined claim stays `submitted` until its
/// block is 3 deep; a reorg that drops its transaction meanwhile is noticed (the receipt is
/// gone), the same signed bytes go out again (same nonce), and the claim ends `confirmed` once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirmed_only_when_deep_enough_and_sent_again_after_a_reorg() {
    let dir = scratch("reorg");
    let campaign = local_campaign();
    let claims = make_claims(&dir, 80..81, &campaign);
    let chain = deploy(&dir, &claims.keys, &claims.files[0].0);
    let op = operator(&chain.rpc);
    let redis = RedisServer::start(&dir.join("redis"));
    let mut configs = relayer_config(&chain, &claims.keys, 10);
    configs[0].confirmations = 3;
    let relayer = relayer(&redis, configs, fast()).await;
    let (id, _) = relayer
        .submit(&body(&claims.files[0].1, &claims.files[0].2))
        .await
        .unwrap();
    let driving = spawn_drive(&relayer, &id);
    let receipt_block = |status: Value| {
        let op = op.clone();
        async move {
            let hash: alloy::primitives::TxHash =
                status["txHash"].as_str().unwrap().parse().unwrap();
            op.get_transaction_receipt(hash)
                .await
                .unwrap()
                .and_then(|r| r.block_number)
        }
    };
    let sent = wait_for(&relayer, &id, 30, |s| s["phase"] == "submitted").await;
    // Automine: mined at once, one block deep.
    let deadline = Instant::now() + Duration::from_secs(10);
    let block = loop {
        if let Some(block) = receipt_block(sent.clone()).await {
            break block;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let still_submitted = || async {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let status = relayer.status(&id).await.unwrap();
        assert_eq!(status["phase"], "submitted", "{status}");
        status
    };
    still_submitted().await;
    rpc(&op, "evm_mine", json!([])).await;
    still_submitted().await;
    // Both blocks replaced by empty ones: the transaction is in neither the chain nor the pool.
    rpc(&op, "anvil_reorg", json!([2, []])).await;
    // Two blocks replaced: the head is `block + 1`, or `block + 2` once the relayer's resend
    // (it polls every 50 ms) was already mined when this reads it.
    let head = op.get_block_number().await.unwrap();
    assert!(
        head == block + 1 || head == block + 2,
        "{head} after {block}"
    );
    // The relayer sends the recorded bytes again: mined (automine) after the replaced blocks
    // (block + 2 unless something else was mined first; 60 s: a loaded machine polls slowly).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mined = receipt_block(sent.clone()).await;
        if mined.is_some_and(|b| b >= block + 2) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not sent again after the reorg: receipt in {mined:?}, head {:?}, first in {block}",
            op.get_block_number().await.ok()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = still_submitted().await;
    assert_eq!(
        status["transactions"], sent["transactions"],
        "the same transaction"
    );
    rpc(&op, "evm_mine", json!([])).await;
    still_submitted().await;
    rpc(&op, "evm_mine", json!([])).await;
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(30), driving)
            .await
            .unwrap()
            .unwrap(),
        Phase::Confirmed
    );
    let status = relayer.status(&id).await.unwrap();
    assert_eq!(status["txHash"], sent["txHash"]);
    assert_eq!(status["block"], json!(block + 2), "{status}");
    let events = phases(&redis, &id).await;
    assert_eq!(
        events,
        ["received", "verified", "submitted", "confirmed"],
        "confirmed once"
    );
    let nullifier: U256 = status["nullifier"].as_str().unwrap().parse().unwrap();
    assert_eq!(carriers(&op, nullifier).await.len(), 1);
    let account: Address = status["account"].as_str().unwrap().parse().unwrap();
    assert_eq!(op.get_transaction_count(account).await.unwrap(), 1);
}

/// Issue 29, item 11.4: the claim's own calldata, sent first by someone else (same claimant, same
/// amount), pays the claimant: the claim ends `confirmed` with that transaction and its sender,
/// whether the copy is mined before the relayer simulates (nothing of the relayer's is sent) or
/// in the same block, ahead of the relayer's transaction (which reverts).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_claim_whose_calldata_someone_else_sent_is_confirmed_with_their_transaction() {
    let dir = scratch("copied");
    let campaign = local_campaign();
    let claims = make_claims(&dir, 90..92, &campaign);
    let chain = deploy(&dir, &claims.keys, &claims.files[0].0);
    let op = operator(&chain.rpc);
    publish_roots(&op, &chain, &claims.files[1..]).await;
    let redis = RedisServer::start(&dir.join("redis"));
    let relayer = relayer(&redis, relayer_config(&chain, &claims.keys, 3), fast()).await;
    let airdrop: Address = chain.config["airdrop"].as_str().unwrap().parse().unwrap();
    let other_signer: PrivateKeySigner = OTHER_KEY.parse().unwrap();
    let other = ProviderBuilder::new()
        .wallet(EthereumWallet::from(other_signer.clone()))
        .connect_http(chain.rpc.parse().unwrap())
        .erased();
    let copy = |id: String, tip: u128| {
        let (relayer, other) = (relayer.clone(), other.clone());
        async move {
            use alloy::network::TransactionBuilder;
            let call = relayer.claims().get(&id).await.unwrap().unwrap().call;
            let tx = alloy::rpc::types::TransactionRequest::default()
                .with_to(airdrop)
                .with_input(call)
                .with_gas_limit(2_000_000)
                .with_max_fee_per_gas(100 * GWEI)
                .with_max_priority_fee_per_gas(tip);
            *other.send_transaction(tx).await.unwrap().tx_hash()
        }
    };
    let receipt = |hash: alloy::primitives::TxHash| {
        let op = op.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(receipt) = op.get_transaction_receipt(hash).await.unwrap() {
                    return receipt;
                }
                assert!(Instant::now() < deadline, "{hash} not mined");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let relayer_nonces = || async {
        let mut n = 0;
        for key in RELAYER_KEYS {
            let signer: PrivateKeySigner = key.parse().unwrap();
            n += op.get_transaction_count(signer.address()).await.unwrap();
        }
        n
    };

    // Mined before the relayer looks: its simulation reverts; nothing of its own is sent.
    let (id, _) = relayer
        .submit(&body(&claims.files[0].1, &claims.files[0].2))
        .await
        .unwrap();
    let copied = copy(id.clone(), GWEI).await;
    assert!(receipt(copied).await.status());
    assert_eq!(
        relayer.drive(&id, None, None).await.unwrap(),
        Phase::Confirmed
    );
    let status = relayer.status(&id).await.unwrap();
    assert_eq!(status["txHash"], json!(copied.to_string()), "{status}");
    assert_eq!(
        status["sentBy"],
        json!(other_signer.address().to_checksum(None))
    );
    assert!(status["gasUsed"].as_u64().is_some(), "{status}");
    assert_eq!(relayer_nonces().await, 0, "the relayer sent nothing");

    // In the same block, ahead of the relayer's own transaction (a higher tip): that one reverts
    // (NullifierUsed), and the claim is still confirmed, with the copy.
    rpc(&op, "evm_setAutomine", json!([false])).await;
    let (id, _) = relayer
        .submit(&body(&claims.files[1].1, &claims.files[1].2))
        .await
        .unwrap();
    let driving = spawn_drive(&relayer, &id);
    let ours = wait_for(&relayer, &id, 30, |s| s["phase"] == "submitted").await;
    let copied = copy(id.clone(), 10 * GWEI).await;
    rpc(&op, "evm_mine", json!([])).await;
    rpc(&op, "evm_setAutomine", json!([true])).await;
    let hash: alloy::primitives::TxHash = ours["txHash"].as_str().unwrap().parse().unwrap();
    assert!(
        !receipt(hash).await.status(),
        "the relayer's own transaction reverted"
    );
    assert!(receipt(copied).await.status());
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(30), driving)
            .await
            .unwrap()
            .unwrap(),
        Phase::Confirmed
    );
    let status = relayer.status(&id).await.unwrap();
    assert_eq!(status["txHash"], json!(copied.to_string()), "{status}");
    assert_eq!(
        phases(&redis, &id).await,
        ["received", "verified", "submitted", "confirmed"]
    );
}

/// Issue 29, item 11.5: a claim whose nonce belongs to an account this worker has no key for is
/// handed back (an error, nothing settled: its queue entry stays unacknowledged for another
/// worker) with ACCOUNT_NOT_CONFIGURED naming the account; a worker with the account finishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_claim_of_an_account_this_worker_lacks_is_handed_back() {
    let dir = scratch("lacks-account");
    let campaign = local_campaign();
    let claims = make_claims(&dir, 95..96, &campaign);
    let chain = deploy(&dir, &claims.keys, &claims.files[0].0);
    let redis = RedisServer::start(&dir.join("redis"));
    let only = |keep: usize| {
        let mut configs = relayer_config(&chain, &claims.keys, 3);
        configs[0].relayers.swap(0, keep);
        configs[0].relayers.truncate(1);
        configs
    };
    let with_a = relayer(&redis, only(0), fast()).await;
    let with_b = relayer(&redis, only(1), fast()).await;
    let (id, _) = with_a
        .submit(&body(&claims.files[0].1, &claims.files[0].2))
        .await
        .unwrap();
    assert!(with_a
        .drive(&id, Some(Crash::AfterAllocate), None)
        .await
        .is_err());
    let a: PrivateKeySigner = RELAYER_KEYS[0].parse().unwrap();
    let err = tokio::time::timeout(Duration::from_secs(10), with_b.drive(&id, None, None))
        .await
        .expect("handed back at once, not retried")
        .unwrap_err();
    assert_eq!(err.code, Code::AccountNotConfigured, "{err}");
    assert!(err.message.contains(&a.address().to_string()), "{err}");
    assert!(!err.code.retryable());
    let status = with_b.status(&id).await.unwrap();
    assert_eq!(status["phase"], "verified", "not settled: {status}");
    assert_eq!(
        status["account"],
        json!(a.address().to_checksum(None)),
        "{status}"
    );
    assert_eq!(
        with_a.drive(&id, None, None).await.unwrap(),
        Phase::Confirmed
    );
}

/// SIGTERM to `airprover relay`: the claim it follows (sent, waiting in the pool) is handed back
/// at once (a worker whose lease is a minute takes it over in seconds, not after that minute),
/// the process exits 0, and the claim ends confirmed with its one transaction. Before that, its
/// `--health-listen` says it is ready (Redis, the campaign's RPC) and counts the send.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relay_process_stopped_by_sigterm_hands_its_claim_back() {
    let dir = scratch("sigterm");
    let campaign = local_campaign();
    let claims = make_claims(&dir, 52..53, &campaign);
    let chain = deploy(&dir, &claims.keys, &claims.files[0].0);
    let redis = RedisServer::start(&dir.join("redis"));
    let campaigns = dir.join("campaigns.json");
    std::fs::write(&campaigns, campaigns_json(&chain, &claims.keys, 1000)).unwrap();
    let api = relayer(&redis, relayer_config(&chain, &claims.keys, 1000), fast()).await;
    let op = operator(&chain.rpc);
    rpc(&op, "evm_setAutomine", json!([false])).await;
    let port = common::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut first = RelayProcess::start_with(
        &dir,
        &redis,
        &campaigns,
        "r1",
        &["--lease-ms", "60000", "--health-listen", &listen],
    );
    common::wait_port(port);
    let probes = format!("http://{listen}");
    let ready: Value = reqwest::get(format!("{probes}/ready"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["parts"]["campaign:local"]["status"], "ok", "{ready}");
    assert_eq!(ready["parts"]["redis"]["status"], "ok", "{ready}");

    let (id, _) = api
        .submit(&body(&claims.files[0].1, &claims.files[0].2))
        .await
        .unwrap();
    let sent = wait_for(&api, &id, 60, |s| s["phase"] == "submitted").await;
    let metrics = reqwest::get(format!("{probes}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("airprover_relayer_sent_total{campaign=\"local\"} 1"),
        "{metrics}"
    );

    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &first.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = loop {
        if let Some(status) = first.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "relay still runs 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0), "{}", first.log());
    // The log's colours out: `handed_back=1` as written.
    let mut log = String::new();
    let mut escaped = false;
    for c in first.log().chars() {
        match (escaped, c) {
            (false, '\x1b') => escaped = true,
            (true, 'm') => escaped = false,
            (false, c) => log.push(c),
            _ => {}
        }
    }
    assert!(log.contains("relay worker stopped handed_back=1"), "{log}");

    // A worker whose lease is a minute: only a handed-back entry reaches it this soon.
    let second = RelayProcess::start_with(&dir, &redis, &campaigns, "r2", &["--lease-ms", "60000"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    rpc(&op, "evm_mine", json!([])).await;
    let done = wait_for(&api, &id, 20, |s| s["phase"] == "confirmed").await;
    assert_eq!(done["txHash"], sent["txHash"], "{done}");
    assert_eq!(done["transactions"].as_array().unwrap().len(), 1, "{done}");
    assert!(second.log().contains("relayer worker started"));
}
