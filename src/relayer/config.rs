//! Campaigns the relayer pays claims for, from a JSON file.
//!
//! ```json
//! { "campaigns": [{
//!     "name": "demo",
//!     "chainId": 31337,
//!     "rpcUrl": "http://127.0.0.1:8545",
//!     "airdrop": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
//!     "circuit": "threshold-d20-k4",
//!     "keys": "www/public/keys",
//!     "relayers": [{ "env": "AIRPROVER_RELAYER_KEY", "address": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" },
//!                  { "file": "/etc/airprover/relayer-2.key" }],
//!     "replaceAfterBlocks": 3,
//!     "feeBumpPercent": 25,
//!     "maxFeePerGasWei": "200000000000",
//!     "confirmations": 12
//! }] }
//! ```
//!
//! `maxFeePerGasWei` (a decimal string or a number; optional, no ceiling without it) is the most
//! any transaction of the campaign offers per gas: a claim that would need more waits (phase
//! `waiting_for_fees`) instead of compounding replacement fees. `confirmations` (default 1) is how
//! many blocks deep, its own counted, a transaction must be before its claim ends.
//!
//! Only `relay` reads the relayer accounts' keys ([`load`]); `serve` reads the file without them
//! ([`load_public`]): its accounts are the optional `address` fields (checked against the key
//! where `relay` reads it).
//!
//! A relayer account's private key comes from an environment variable or a file (`0x` and 64
//! hex digits; a file readable by group or others is refused). Keys are never logged, never in
//! an error and never in an API answer: [`RelayerKey`]'s `Debug` shows the address only, and
//! errors name the variable or the file, not its content. Relative paths are relative to the
//! configuration file.

use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use serde::Deserialize;

use super::error::{Code, RelayError, RelayResult};
use crate::circuit::id::CircuitId;

/// The configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    campaigns: Vec<CampaignFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CampaignFile {
    name: String,
    chain_id: u64,
    rpc_url: String,
    airdrop: String,
    circuit: String,
    keys: PathBuf,
    relayers: Vec<RelayerEntry>,
    #[serde(default = "default_replace_after_blocks")]
    replace_after_blocks: u64,
    #[serde(default = "default_fee_bump_percent")]
    fee_bump_percent: u32,
    #[serde(default)]
    max_fee_per_gas_wei: Option<serde_json::Value>,
    #[serde(default = "default_confirmations")]
    confirmations: u64,
}

/// An amount of wei: a JSON number, or a decimal string for amounts a JSON number cannot hold
/// exactly. Read by hand, not by an untagged enum, so that a bad value's error names its field.
fn wei(value: &serde_json::Value) -> Option<u128> {
    match value {
        serde_json::Value::Number(n) => n.as_u64().map(u128::from),
        serde_json::Value::String(t) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            t.parse().ok()
        }
        _ => None,
    }
}

fn default_confirmations() -> u64 {
    1
}

fn default_replace_after_blocks() -> u64 {
    3
}

fn default_fee_bump_percent() -> u32 {
    25
}

/// A relayer account in the file: where its key is (`env` or `file`) and, optionally, its
/// address, which is all `serve` reads (it never loads a key).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RelayerEntry {
    env: Option<String>,
    file: Option<PathBuf>,
    address: Option<String>,
}

/// Where a relayer account's private key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// An environment variable holding it.
    Env(String),
    /// A file holding it (mode 0600 or stricter).
    File(PathBuf),
}

/// A relayer account: its signer, and where its key came from.
#[derive(Clone)]
pub struct RelayerKey {
    /// The signer (holds the private key: never print it).
    pub signer: PrivateKeySigner,
    /// Where the key came from.
    pub source: KeySource,
}

impl RelayerKey {
    /// The account's address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }
}

impl std::fmt::Debug for RelayerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayerKey")
            .field("address", &self.address())
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// One campaign, as configured (what the chain says about it is read by
/// [`super::chain::Campaign::connect`]).
#[derive(Debug, Clone)]
pub struct CampaignConfig {
    /// The name clients use (`campaign` in `POST /v1/claims`).
    pub name: String,
    /// The chain id the RPC node must report.
    pub chain_id: u64,
    /// The RPC node's URL.
    pub rpc_url: String,
    /// The `ReputationAirdrop` contract.
    pub airdrop: Address,
    /// The circuit its verifier checks.
    pub circuit: CircuitId,
    /// The key directory with the circuit's verifying key (checked against its manifest).
    pub keys: PathBuf,
    /// The relayer accounts with their keys (at least one); empty where the file was read
    /// without keys ([`load_public`], what `serve` does).
    pub relayers: Vec<RelayerKey>,
    /// The relayer accounts' addresses: those of the keys, or without keys those the file
    /// gives (`address`).
    pub accounts: Vec<Address>,
    /// A transaction not mined after this many blocks is replaced with a higher fee.
    pub replace_after_blocks: u64,
    /// How much a replacement raises both fees, in percent (at least 10, which nodes require).
    pub fee_bump_percent: u32,
    /// The most `maxFeePerGas` any of the campaign's transactions offers, in wei; none: no
    /// ceiling. A claim that would need more waits (`waiting_for_fees`).
    pub max_fee_per_gas: Option<u128>,
    /// How many blocks deep (its own counted) a claim's transaction must be before the claim
    /// ends: 1 ends it in the block that includes it. A reorg shallower than this is followed.
    pub confirmations: u64,
}

impl CampaignConfig {
    /// Whether a transaction in block `block` is deep enough for its claim to end, the chain's
    /// latest block being `latest`: `confirmations` blocks, its own counted.
    pub fn deep_enough(&self, block: u64, latest: u64) -> bool {
        latest.saturating_add(1).saturating_sub(block) >= self.confirmations
    }
}

/// Reads the campaigns of the file at `path`, with the relayer accounts' keys (what `relay`
/// does).
pub fn load(path: &Path) -> RelayResult<Vec<CampaignConfig>> {
    let (text, base) = read(path)?;
    parse(&text, base, &|name| std::env::var(name).ok())
}

/// Reads the campaigns of the file at `path` without touching a single relayer key: the
/// accounts are the addresses the file gives (what `serve` does: it checks and stores claims,
/// and never signs).
pub fn load_public(path: &Path) -> RelayResult<Vec<CampaignConfig>> {
    let (text, base) = read(path)?;
    parse_with(&text, base, None)
}

fn read(path: &Path) -> RelayResult<(String, &Path)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| RelayError::new(Code::Misconfigured, format!("{}: {e}", path.display())))?;
    Ok((text, path.parent().unwrap_or(Path::new("."))))
}

/// Parses a configuration; relative paths are relative to `base`, and `env` reads environment
/// variables.
pub fn parse(
    text: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> RelayResult<Vec<CampaignConfig>> {
    parse_with(text, base, Some(env))
}

/// Reads an environment variable.
type Env<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// [`parse`], or with no `env` the file without keys ([`load_public`]).
fn parse_with(text: &str, base: &Path, env: Option<&Env<'_>>) -> RelayResult<Vec<CampaignConfig>> {
    // Strict, as every document the crate reads: a duplicate key is refused, never overwritten.
    let file: File = crate::json::parse_strict(text)
        .map_err(|e| e.to_string())
        .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
        .map_err(|e| RelayError::new(Code::Misconfigured, format!("campaigns file: {e}")))?;
    if file.campaigns.is_empty() {
        return Err(misconfigured("campaigns: none configured"));
    }
    let mut out: Vec<CampaignConfig> = Vec::with_capacity(file.campaigns.len());
    for (i, c) in file.campaigns.into_iter().enumerate() {
        let at = |field: &str| format!("campaigns[{i}].{field}");
        if c.name.is_empty() || out.iter().any(|o| o.name == c.name) {
            return Err(misconfigured(format!(
                "{}: empty or used twice",
                at("name")
            )));
        }
        let airdrop: Address = c
            .airdrop
            .parse()
            .map_err(|_| misconfigured(format!("{}: not an address", at("airdrop"))))?;
        let circuit: CircuitId = c
            .circuit
            .parse()
            .map_err(|e: crate::Error| misconfigured(format!("{}: {e}", at("circuit"))))?;
        if c.relayers.is_empty() {
            return Err(misconfigured(format!(
                "{}: none configured",
                at("relayers")
            )));
        }
        if c.fee_bump_percent < 10 {
            return Err(misconfigured(format!(
                "{}: nodes refuse a replacement that raises the fees by less than 10%",
                at("feeBumpPercent")
            )));
        }
        if c.replace_after_blocks == 0 {
            return Err(misconfigured(format!(
                "{}: must be at least 1",
                at("replaceAfterBlocks")
            )));
        }
        let max_fee_per_gas = match &c.max_fee_per_gas_wei {
            None => None,
            Some(value) => Some(wei(value).filter(|v| *v > 0).ok_or_else(|| {
                misconfigured(format!(
                    "{}: a positive whole number of wei (a number, or a string of decimal digits)",
                    at("maxFeePerGasWei")
                ))
            })?),
        };
        if c.confirmations == 0 || c.confirmations > MAX_CONFIRMATIONS {
            return Err(misconfigured(format!(
                "{}: from 1 to {MAX_CONFIRMATIONS}",
                at("confirmations")
            )));
        }
        let mut relayers = Vec::new();
        let mut accounts = Vec::new();
        for (j, entry) in c.relayers.into_iter().enumerate() {
            let at = at(&format!("relayers[{j}]"));
            let source = match (entry.env, entry.file) {
                (Some(name), None) => KeySource::Env(name),
                (None, Some(path)) => KeySource::File(path),
                _ => {
                    return Err(misconfigured(format!(
                        "{at}: one of \"env\" or \"file\" (where its key is)"
                    )))
                }
            };
            let address = match &entry.address {
                None => None,
                Some(a) => Some(
                    a.parse::<Address>()
                        .map_err(|_| misconfigured(format!("{at}.address: not an address")))?,
                ),
            };
            match env {
                Some(env) => {
                    let key = read_key(source, base, env, &at)?;
                    if address.is_some_and(|a| a != key.address()) {
                        return Err(misconfigured(format!(
                            "{at}.address: the key is account {}, not this one",
                            key.address()
                        )));
                    }
                    accounts.push(key.address());
                    relayers.push(key);
                }
                None => accounts.extend(address),
            }
        }
        let keys = if c.keys.is_absolute() {
            c.keys
        } else {
            base.join(c.keys)
        };
        out.push(CampaignConfig {
            name: c.name,
            chain_id: c.chain_id,
            rpc_url: c.rpc_url,
            airdrop,
            circuit,
            keys,
            relayers,
            accounts,
            replace_after_blocks: c.replace_after_blocks,
            fee_bump_percent: c.fee_bump_percent,
            max_fee_per_gas,
            confirmations: c.confirmations,
        });
    }
    Ok(out)
}

/// More blocks than any chain's finality needs: a larger number is a typo (wei for blocks?).
const MAX_CONFIRMATIONS: u64 = 10_000;

fn misconfigured(message: impl Into<String>) -> RelayError {
    RelayError::new(Code::Misconfigured, message)
}

/// The key of `source`. Errors name the variable or the file, never the value.
fn read_key(
    source: KeySource,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    at: &str,
) -> RelayResult<RelayerKey> {
    let (text, from) = match &source {
        KeySource::Env(name) => (
            env(name).ok_or_else(|| {
                misconfigured(format!("{at}: the environment variable {name} is not set"))
            })?,
            format!("the environment variable {name}"),
        ),
        KeySource::File(path) => {
            let path = if path.is_absolute() {
                path.clone()
            } else {
                base.join(path)
            };
            check_private(&path, at)?;
            let text = std::fs::read_to_string(&path)
                .map_err(|e| misconfigured(format!("{at}: {}: {}", path.display(), e.kind())))?;
            (text, format!("the file {}", path.display()))
        }
    };
    let signer: PrivateKeySigner = text.trim().parse().map_err(|_| {
        misconfigured(format!(
            "{at}: {from} does not hold a private key (0x and 64 hex digits)"
        ))
    })?;
    Ok(RelayerKey { signer, source })
}

fn check_private(path: &Path, at: &str) -> RelayResult<()> {
    private_file(path).map_err(|e| misconfigured(format!("{at}: {e}")))
}

/// Refuses a secret's file that group or others may read (relayer keys, worker keys): an error
/// that names the file and says `chmod 600`. Always Ok where file modes do not exist.
pub fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| {
            std::io::Error::new(e.kind(), format!("{}: {}", path.display(), e.kind()))
        })?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(std::io::Error::other(format!(
                "{} is readable by group or others: chmod 600 it",
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // anvil's public development key #2: public knowledge, never a real account's.
    const DEV_KEY: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

    fn config(relayers: &str) -> String {
        format!(
            r#"{{ "campaigns": [{{ "name": "demo", "chainId": 31337, "rpcUrl": "http://127.0.0.1:8545",
            "airdrop": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", "circuit": "threshold-d4-k2",
            "keys": "keys", "relayers": {relayers} }}] }}"#
        )
    }

    #[test]
    fn keys_come_from_the_environment_and_never_show() {
        let env = |name: &str| (name == "RELAYER").then(|| DEV_KEY.to_string());
        let campaigns = parse(
            &config(r#"[{ "env": "RELAYER" }]"#),
            Path::new("/cfg"),
            &env,
        )
        .unwrap();
        let c = &campaigns[0];
        assert_eq!(c.keys, Path::new("/cfg/keys"));
        assert_eq!(c.replace_after_blocks, 3);
        assert_eq!((c.max_fee_per_gas, c.confirmations), (None, 1));
        assert!(c.deep_enough(7, 7), "one confirmation: the including block");
        let twelve = CampaignConfig {
            confirmations: 12,
            ..c.clone()
        };
        assert!(!twelve.deep_enough(7, 17) && twelve.deep_enough(7, 18));
        // A receipt newer than the latest block read (read in the other order): not deep.
        assert!(!c.deep_enough(8, 7));
        let shown = format!("{c:?}");
        assert!(
            !shown.contains(&DEV_KEY[2..]),
            "the key must not be printed: {shown}"
        );
        assert!(shown.contains(&format!("{:?}", c.relayers[0].address())));
    }

    /// `serve` reads no key (issue 29, item 4): not the environment, not a file, even where
    /// neither exists; its accounts are the addresses given. `relay` checks each against its key.
    #[test]
    fn the_file_without_keys_reads_none_and_addresses_are_checked() {
        let account = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
        let text = config(&format!(
            r#"[{{ "env": "RELAYER", "address": "{account}" }}, {{ "file": "/nowhere/relayer.key" }}]"#
        ));
        let public = parse_with(&text, Path::new("/"), None).unwrap();
        assert!(public[0].relayers.is_empty());
        assert_eq!(public[0].accounts, [account.parse::<Address>().unwrap()]);
        let env = |name: &str| (name == "RELAYER").then(|| DEV_KEY.to_string());
        let one = config(&format!(
            r#"[{{ "env": "RELAYER", "address": "{account}" }}]"#
        ));
        let keyed = parse(&one, Path::new("/"), &env).unwrap();
        assert_eq!(keyed[0].accounts, public[0].accounts, "anvil's account #2");
        let wrong = config(
            r#"[{ "env": "RELAYER", "address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" }]"#,
        );
        let err = parse(&wrong, Path::new("/"), &env).unwrap_err();
        assert!(err.message.contains("relayers[0].address"), "{err}");
        let both = config(r#"[{ "env": "RELAYER", "file": "k" }]"#);
        assert!(parse(&both, Path::new("/"), &env).is_err());
    }

    #[test]
    fn bad_keys_name_their_source_not_their_value() {
        let secretish = "0xnot-a-key-but-still-secret";
        let env = |_: &str| Some(secretish.to_string());
        let err = parse(&config(r#"[{ "env": "RELAYER" }]"#), Path::new("/"), &env).unwrap_err();
        assert_eq!(err.code, Code::Misconfigured);
        assert!(err.message.contains("RELAYER"), "{err}");
        assert!(!err.message.contains("still-secret"), "{err}");
        let none = |_: &str| None;
        let err = parse(&config(r#"[{ "env": "RELAYER" }]"#), Path::new("/"), &none).unwrap_err();
        assert!(err.message.contains("is not set"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn key_files_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir =
            std::env::temp_dir().join(format!("airprover-relayer-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("relayer.key");
        std::fs::write(&key, DEV_KEY).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let none = |_: &str| None;
        let err = parse(&config(r#"[{ "file": "relayer.key" }]"#), &dir, &none).unwrap_err();
        assert!(err.message.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let ok = parse(&config(r#"[{ "file": "relayer.key" }]"#), &dir, &none).unwrap();
        assert_eq!(ok[0].relayers.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fee_ceilings_and_confirmations_are_checked() {
        let env = |_: &str| Some(DEV_KEY.to_string());
        let with = |extra: &str| config(&format!(r#"[{{ "env": "RELAYER" }}], {extra}"#));
        for (extra, ceiling, confirmations) in [
            (r#""maxFeePerGasWei": 5000000000"#, Some(5_000_000_000), 1),
            (
                r#""maxFeePerGasWei": "340282366920938463463374607431768211455", "confirmations": 12"#,
                Some(u128::MAX),
                12,
            ),
        ] {
            let c = &parse(&with(extra), Path::new("/"), &env).unwrap()[0];
            assert_eq!(
                (c.max_fee_per_gas, c.confirmations),
                (ceiling, confirmations)
            );
        }
        for (extra, field) in [
            (r#""maxFeePerGasWei": 0"#, "maxFeePerGasWei"),
            (r#""maxFeePerGasWei": "0""#, "maxFeePerGasWei"),
            (r#""maxFeePerGasWei": "5 gwei""#, "maxFeePerGasWei"),
            (r#""maxFeePerGasWei": "-1""#, "maxFeePerGasWei"),
            (r#""maxFeePerGasWei": 1.5"#, "maxFeePerGasWei"),
            (
                r#""maxFeePerGasWei": "340282366920938463463374607431768211456""#,
                "maxFeePerGasWei",
            ),
            (r#""confirmations": 0"#, "confirmations"),
            (r#""confirmations": 10001"#, "confirmations"),
        ] {
            let err = parse(&with(extra), Path::new("/"), &env).unwrap_err();
            assert_eq!(err.code, Code::Misconfigured, "{extra}");
            assert!(err.message.contains(field), "{extra}: {err}");
        }
    }

    #[test]
    fn unknown_fields_and_empty_lists_are_refused() {
        let none = |_: &str| None;
        for bad in [
            r#"{ "campaigns": [] }"#.to_string(),
            config("[]"),
            config(r#"[{ "env": "X" }], "extra": 1"#),
            r#"{ "campaigns": [], "more": 1 }"#.to_string(),
            // The same key twice: refused, not the last one silently kept.
            config(r#"[{ "env": "X" }], "rpcUrl": "http://elsewhere""#),
        ] {
            let err = parse(&bad, Path::new("/"), &none).unwrap_err();
            assert_eq!(err.code, Code::Misconfigured, "{bad}");
        }
    }
}
