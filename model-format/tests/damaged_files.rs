//! Property test: damaged model files are refused with an error naming the file (or, if
//! the damage happens to leave a valid file, accepted), and the reader never panics.

use std::panic;
use std::sync::OnceLock;

use model_format::{
    Architecture, Metadata, ModelFile, StorageDtype, VitConfig, WeightTensor, Weights,
};
use proptest::prelude::*;

const ORIGIN: &str = "fuzzed.safetensors";

/// A tiny model serialised as f32, f16 and int8.
fn files() -> &'static [Vec<u8>; 3] {
    static FILES: OnceLock<[Vec<u8>; 3]> = OnceLock::new();
    FILES.get_or_init(|| {
        let architecture = Architecture::Vit(VitConfig::custom(16, 8, 16, 1, 2, 2));
        let mut state = 7u64;
        let mut weights = Weights::new();
        for (name, shape) in architecture.tensor_shapes() {
            let n = shape.iter().product();
            let data = (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect();
            weights.insert(name, WeightTensor { shape, data });
        }
        let model = ModelFile {
            metadata: Metadata::liveness(architecture.vit().expect("a ViT").clone()),
            weights,
        };
        [StorageDtype::F32, StorageDtype::F16, StorageDtype::Int8]
            .map(|dtype| model.to_bytes(dtype).expect("the test model is valid"))
    })
}

fn header_len(file: &[u8]) -> usize {
    u64::from_le_bytes(file[..8].try_into().unwrap()) as usize
}

#[derive(Clone, Debug)]
enum Damage {
    Truncate(usize),
    FlipBytes(Vec<(usize, u8)>),
    /// Flips restricted to the header, where they hit the JSON.
    FlipHeaderBytes(Vec<(usize, u8)>),
    HeaderLength(u64),
    /// A header length near the real one.
    NearHeaderLength(i64),
    /// Bytes inserted into the header; `fix_length` updates the length prefix to match.
    Splice {
        at: usize,
        bytes: Vec<u8>,
        fix_length: bool,
    },
    /// Replaces one of the header's digits, to reach shapes and offsets.
    ChangeDigit {
        nth: usize,
        digit: u8,
    },
    Garbage(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    let flips = || prop::collection::vec((any::<usize>(), 1u8..=255), 1..8);
    prop_oneof![
        any::<usize>().prop_map(Damage::Truncate),
        flips().prop_map(Damage::FlipBytes),
        flips().prop_map(Damage::FlipHeaderBytes),
        any::<u64>().prop_map(Damage::HeaderLength),
        (-64i64..64).prop_map(Damage::NearHeaderLength),
        (
            any::<usize>(),
            prop::collection::vec(any::<u8>(), 1..32),
            any::<bool>()
        )
            .prop_map(|(at, bytes, fix_length)| Damage::Splice {
                at,
                bytes,
                fix_length
            }),
        (any::<usize>(), 0u8..=9).prop_map(|(nth, digit)| Damage::ChangeDigit { nth, digit }),
        prop::collection::vec(any::<u8>(), 0..512).prop_map(Damage::Garbage),
    ]
}

fn apply(file: &[u8], damage: &Damage) -> Vec<u8> {
    let mut out = file.to_vec();
    let n = header_len(file);
    match damage {
        Damage::Truncate(len) => out.truncate(len % (file.len() + 1)),
        Damage::FlipBytes(flips) => {
            for &(at, mask) in flips {
                out[at % file.len()] ^= mask;
            }
        }
        Damage::FlipHeaderBytes(flips) => {
            for &(at, mask) in flips {
                out[8 + at % n] ^= mask;
            }
        }
        Damage::HeaderLength(len) => out[..8].copy_from_slice(&len.to_le_bytes()),
        Damage::NearHeaderLength(delta) => {
            let len = (n as i64 + delta).max(0) as u64;
            out[..8].copy_from_slice(&len.to_le_bytes());
        }
        Damage::Splice {
            at,
            bytes,
            fix_length,
        } => {
            let at = 8 + at % (n + 1);
            out.splice(at..at, bytes.iter().copied());
            if *fix_length {
                out[..8].copy_from_slice(&((n + bytes.len()) as u64).to_le_bytes());
            }
        }
        Damage::ChangeDigit { nth, digit } => {
            let digits: Vec<usize> = (8..8 + n).filter(|&i| out[i].is_ascii_digit()).collect();
            if !digits.is_empty() {
                out[digits[nth % digits.len()]] = b'0' + digit;
            }
        }
        Damage::Garbage(bytes) => out = bytes.clone(),
    }
    out
}

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let outcome = panic::catch_unwind(|| ModelFile::from_bytes(ORIGIN, bytes));
    let Ok(result) = outcome else {
        return Err(TestCaseError::fail("ModelFile::from_bytes panicked"));
    };
    match result {
        Ok(model) => {
            // Whatever is accepted is a valid model.
            prop_assert!(model.validate(ORIGIN).is_ok());
        }
        Err(error) => {
            let message = error.to_string();
            prop_assert!(
                message.starts_with(&format!("{ORIGIN}: ")),
                "message without the origin: {message}"
            );
            prop_assert!(message.len() < 1000, "overlong message: {message}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn damaged_files_never_panic(variant in 0usize..3, damage in damage()) {
        let damaged = apply(&files()[variant], &damage);
        check(&damaged)?;
    }

    #[test]
    fn repeated_damage_never_panics(
        variant in 0usize..3,
        damages in prop::collection::vec(damage(), 2..5),
    ) {
        let mut file = files()[variant].clone();
        for damage in &damages {
            if file.len() < 8 || header_len(&file) > file.len() - 8 || header_len(&file) == 0 {
                break;
            }
            file = apply(&file, damage);
        }
        check(&file)?;
    }
}

#[test]
fn undamaged_files_are_accepted() {
    for file in files() {
        let model = ModelFile::from_bytes(ORIGIN, file).unwrap();
        assert!(model.validate(ORIGIN).is_ok());
    }
}
