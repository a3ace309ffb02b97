//! A campaign's id, bound to the deployment that pays it.
//!
//! The nullifier binds a claim to a `campaignId`; if that id were any number chosen at deployment,
//! one proof could be paid by every deployment that chose the same number (another chain, a
//! redeploy). `ReputationAirdrop`'s constructor refuses any id but
//! `keccak256(abi.encode(block.chainid, address(this))) mod r`, which [`campaign_id`] computes
//! here: the CLI (`airprover campaign-id`), the contract tests and the claim app derive it the
//! same way, so a proof for one deployment is refused (`WrongCampaign`) by every other.
//!
//! An operator knows the id before deploying: a contract created by an account lands at an
//! address fixed by the account and its nonce ([`create_address`]).

use ark_bn254::Fr;
use num_bigint::BigUint;
use sha3::{Digest, Keccak256};

use crate::error::{Error, Result};
use crate::field::biguint_to_fr;

/// An Ethereum address.
pub type Address = [u8; 20];

/// `keccak256(abi.encode(uint256 chainId, address airdrop)) mod r`: the only `campaignId` the
/// airdrop at `airdrop` on chain `chain_id` accepts.
pub fn campaign_id(chain_id: u64, airdrop: &Address) -> Fr {
    let mut encoded = [0u8; 64];
    encoded[24..32].copy_from_slice(&chain_id.to_be_bytes());
    encoded[44..64].copy_from_slice(airdrop);
    let digest = BigUint::from_bytes_be(&Keccak256::digest(encoded));
    biguint_to_fr(&(digest % crate::field::modulus())).expect("reduced below the modulus")
}

/// The address of the contract that `deployer` creates with its transaction of nonce `nonce`
/// (`CREATE`): the last 20 bytes of `keccak256(rlp([deployer, nonce]))`.
pub fn create_address(deployer: &Address, nonce: u64) -> Address {
    // RLP: a list of a 20-byte string and an integer (no leading zero bytes; 0 is the empty
    // string). The payload is at most 21 + 9 bytes, so the list's prefix is one byte.
    let mut payload = Vec::with_capacity(30);
    payload.push(0x80 + 20);
    payload.extend_from_slice(deployer);
    let be = nonce.to_be_bytes();
    let significant = &be[be.iter().take_while(|&&b| b == 0).count()..];
    match significant {
        [] => payload.push(0x80),
        [b] if *b < 0x80 => payload.push(*b),
        bytes => {
            payload.push(0x80 + bytes.len() as u8);
            payload.extend_from_slice(bytes);
        }
    }
    let mut rlp = Vec::with_capacity(31);
    rlp.push(0xc0 + payload.len() as u8);
    rlp.extend_from_slice(&payload);
    let digest = Keccak256::digest(&rlp);
    digest[12..].try_into().expect("32 - 12 = 20 bytes")
}

/// Parses `0x` and 40 hex digits (either case; the checksum is not required).
pub fn parse_address(s: &str, field: &str) -> Result<Address> {
    let hex_digits = s
        .strip_prefix("0x")
        .filter(|h| h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| Error::input(field, "is not an address: 0x and 40 hex digits"))?;
    let mut out = [0u8; 20];
    hex::decode_to_slice(hex_digits, &mut out).expect("checked: 40 hex digits");
    Ok(out)
}

/// `0x` and 40 lowercase hex digits.
pub fn address_to_hex(address: &Address) -> String {
    format!("0x{}", hex::encode(address))
}

/// The public development account anvil (and hardhat) fund first: the demo's and the tests'
/// operator. Its private key is public knowledge.
pub const ANVIL_ACCOUNT_0: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
/// anvil's default chain id.
pub const ANVIL_CHAIN_ID: u64 = 31337;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::fr_to_decimal;

    fn addr(s: &str) -> Address {
        parse_address(s, "address").unwrap()
    }

    #[test]
    fn create_addresses_match_ethereum() {
        // Well-known: anvil's account 0 deploys its first contracts at these addresses.
        let deployer = addr(ANVIL_ACCOUNT_0);
        let expected = [
            "0x5fbdb2315678afecb367f032d93f642f64180aa3",
            "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
            "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0",
        ];
        for (nonce, want) in expected.iter().enumerate() {
            assert_eq!(
                address_to_hex(&create_address(&deployer, nonce as u64)),
                *want
            );
        }
        // Nonces of one byte at or above 0x80, and of several bytes, take a length prefix.
        assert_ne!(
            create_address(&deployer, 0x7f),
            create_address(&deployer, 0x80)
        );
        assert_ne!(
            create_address(&deployer, 0xff),
            create_address(&deployer, 0x100)
        );
    }

    #[test]
    fn campaign_id_is_keccak_of_chain_and_address_reduced() {
        let a = addr("0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0");
        let id = campaign_id(ANVIL_CHAIN_ID, &a);
        // Another chain or another address: another campaign.
        assert_ne!(id, campaign_id(1, &a));
        assert_ne!(id, campaign_id(ANVIL_CHAIN_ID, &addr(ANVIL_ACCOUNT_0)));
        // The reduction: the digest mod r, recomputed independently.
        let mut encoded = [0u8; 64];
        encoded[24..32].copy_from_slice(&ANVIL_CHAIN_ID.to_be_bytes());
        encoded[44..].copy_from_slice(&a);
        let digest = BigUint::from_bytes_be(&Keccak256::digest(encoded));
        assert_eq!(
            fr_to_decimal(&id),
            (digest % crate::field::modulus()).to_string()
        );
    }

    #[test]
    fn addresses_are_parsed_strictly() {
        for bad in [
            "",
            "0x",
            "f39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            "0xf39f",
            "0xg39fd6e51aad88f6f4ce6ab8827279cfffb92266",
        ] {
            let err = parse_address(bad, "address").unwrap_err();
            assert_eq!(err.code(), "INVALID_INPUT", "{bad:?}");
        }
        assert_eq!(
            address_to_hex(&addr("0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266")),
            ANVIL_ACCOUNT_0
        );
    }
}
