//! The ViT forward pass and the import path against PyTorch/timm reference outputs
//! (fixtures written by `scripts/make_timm_fixtures.py`).

use burn::tensor::{Device, Tensor, TensorData};
use model_format::VitConfig;
use model_format::vit::Vit;
use tests::{fixture, max_abs_diff, reference_tensor};

const TOLERANCE: f32 = 1e-4;

/// Imports `checkpoint` as `config`, runs the reference input and compares logits and every
/// block's class token with timm's.
fn check_parity(checkpoint: &str, expected: &str, config: VitConfig) {
    let device = Device::flex();
    let file = trainer::weights::import::import_as(&fixture(checkpoint), config).expect("import");
    let (config, _) = file.metadata.classifier().unwrap();
    let vit = Vit::from_weights(config, &file.weights, &device);

    let (input_shape, input) = reference_tensor(expected, "input");
    let images = Tensor::<4>::from_data(TensorData::new(input, input_shape.clone()), &device);
    let output = vit.forward_with_class_tokens(images);

    let (_, want_logits) = reference_tensor(expected, "logits");
    let logits = output.logits.into_data().try_into_vec::<f32>().unwrap();
    let diff = max_abs_diff(&logits, &want_logits);
    assert!(
        diff <= TOLERANCE,
        "logits differ by {diff}: {logits:?} vs {want_logits:?}"
    );
    eprintln!("{checkpoint}: logits within {diff:.1e}");
    // The fixture is meaningful: logits are not all alike.
    assert!(
        want_logits.iter().any(|l| l.abs() > 0.1),
        "degenerate fixture"
    );

    let (token_shape, want_tokens) = reference_tensor(expected, "class_tokens");
    assert_eq!(token_shape[0], config.depth);
    assert_eq!(output.class_tokens.len(), config.depth);
    let per_block = token_shape[1] * token_shape[2];
    for (i, token) in output.class_tokens.into_iter().enumerate() {
        assert_eq!(token.dims(), [token_shape[1], token_shape[2]]);
        let got = token.into_data().try_into_vec::<f32>().unwrap();
        let want = &want_tokens[i * per_block..(i + 1) * per_block];
        let diff = max_abs_diff(&got, want);
        assert!(diff <= TOLERANCE, "block {i} class token differs by {diff}");
        eprintln!("{checkpoint}: block {i} class token within {diff:.1e}");
    }
}

#[test]
fn tiny_vit_from_a_ddp_pth_checkpoint_matches_timm() {
    // timm VisionTransformer(img 32, patch 8, dim 48, depth 4, heads 3), saved as
    // {"model": {"module.<name>": tensor}} like a DistributedDataParallel checkpoint.
    check_parity(
        "timm_tiny/checkpoint.pth",
        "timm_tiny/expected.safetensors",
        VitConfig::custom(32, 8, 48, 4, 3, 2),
    );
}

/// A checkpoint as the HaTFAS reference's (and DeiT's) `main.py` saves it: the weights
/// under `model` beside AdamW and scheduler state, the EMA, the loss scaler and the
/// pickled `argparse.Namespace` of its arguments.
#[test]
fn tiny_vit_from_a_reference_training_checkpoint_matches_timm() {
    check_parity(
        "timm_tiny/reference_checkpoint.pth",
        "timm_tiny/expected.safetensors",
        VitConfig::custom(32, 8, 48, 4, 3, 2),
    );
}

#[test]
fn deit_tiny_from_a_timm_safetensors_checkpoint_matches_timm() {
    check_parity(
        "deit_tiny/checkpoint.safetensors",
        "deit_tiny/expected.safetensors",
        VitConfig::preset("deit_tiny_patch16_224", 2).unwrap(),
    );
}

#[test]
fn importing_into_the_wrong_preset_is_a_clear_error() {
    let err = trainer::weights::import::import(
        &fixture("deit_tiny/checkpoint.safetensors"),
        "deit_base_patch16_224",
    )
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("does not match deit_base_patch16_224"),
        "{message}"
    );
    assert!(message.contains("blocks.0.attn.qkv.weight"), "{message}");
    assert!(message.contains("[576, 192]"), "{message}");
}

/// The tokens the HaTFAS reference code distils (every block's attention on the
/// embeddings, `scripts/make_reference_fixtures.py`), requested out of order.
#[test]
fn embedding_class_tokens_match_the_reference_codes_loop() {
    use model_format::{TokenInput, TokenRequest};
    let device = Device::flex();
    let config = VitConfig::custom(32, 8, 48, 4, 3, 2);
    let file =
        trainer::weights::import::import_as(&fixture("timm_tiny/checkpoint.pth"), config).unwrap();
    let (config, _) = file.metadata.classifier().unwrap();
    let vit = Vit::from_weights(config, &file.weights, &device);
    let (input_shape, input) = reference_tensor("timm_tiny/expected.safetensors", "input");
    let images = Tensor::<4>::from_data(TensorData::new(input, input_shape), &device);
    let blocks = [3, 1, 2, 0];
    let output = vit.forward_mixed(
        images,
        Some(TokenRequest {
            blocks: &blocks,
            input: TokenInput::Embeddings,
        }),
        burn::tensor::FloatDType::F32,
    );
    let expected = "timm_tiny/embedding_tokens.safetensors";
    let (_, want_logits) = reference_tensor(expected, "logits");
    let logits = output.logits.into_data().try_into_vec::<f32>().unwrap();
    assert!(max_abs_diff(&logits, &want_logits) <= TOLERANCE);
    let (shape, want) = reference_tensor(expected, "embedding_class_tokens");
    let per_block = shape[1] * shape[2];
    for (&b, token) in blocks.iter().zip(output.class_tokens) {
        let got = token.into_data().try_into_vec::<f32>().unwrap();
        let diff = max_abs_diff(&got, &want[b * per_block..(b + 1) * per_block]);
        assert!(
            diff <= TOLERANCE,
            "block {b}: embedding token differs by {diff}"
        );
        eprintln!("block {b}: embedding class token within {diff:.1e}");
    }
}
