//! snarkjs's `.wtns` files, read by `circom::wtns`: for every circom fixture the witness starts
//! with the constant 1 and its next values are the public signals snarkjs's proof has.

mod common;

use airprover::circom::wtns;
use airprover::field::fr_to_decimal;
use common::circom::{fixture, FIXTURES};

#[test]
fn snarkjs_witnesses_read_back_with_their_public_signals() {
    for name in FIXTURES {
        let f = fixture(name);
        let witness = wtns::read(&std::fs::read(&f.wtns).unwrap()).unwrap();
        let public: Vec<String> =
            serde_json::from_str(&std::fs::read_to_string(&f.public).unwrap()).unwrap();
        assert!(witness.len() > public.len(), "{name}");
        let ours: Vec<String> = witness[1..=public.len()]
            .iter()
            .map(fr_to_decimal)
            .collect();
        assert_eq!(ours, public, "{name}");
        // Written back, the file is snarkjs's byte for byte.
        assert_eq!(
            wtns::write(&witness),
            std::fs::read(&f.wtns).unwrap(),
            "{name}"
        );
    }
}
