//! MTCNN against facenet-pytorch (fixtures from `scripts/make_mtcnn_fixtures.py`): each
//! network on fixed inputs, then whole detections on real photos, with the committed
//! detector file `www/models/mtcnn.safetensors`.

use burn::tensor::{Device, Tensor, TensorData};
use model_format::{Architecture, Detector, ModelFile, MtcnnNets};
use tests::{fixture, max_abs_diff, reference_tensor};

const NETWORKS: &str = "mtcnn/networks.safetensors";

fn detector_file() -> ModelFile {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../www/models/mtcnn.safetensors");
    ModelFile::read(path).expect("the committed detector file")
}

fn detector(device: &Device) -> Detector {
    let file = detector_file();
    let Architecture::Mtcnn(config) = file.metadata.architecture.clone() else {
        panic!("mtcnn.safetensors is not a detector");
    };
    Detector::new(
        MtcnnNets::from_weights(&file.weights, device),
        config,
        device.clone(),
    )
}

fn input(name: &str, device: &Device) -> Tensor<4> {
    let (shape, values) = reference_tensor(NETWORKS, name);
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn check<const D: usize>(got: Tensor<D>, name: &str) {
    let (shape, want) = reference_tensor(NETWORKS, name);
    assert_eq!(got.dims().to_vec(), shape, "{name} shape");
    let got = got.into_data().try_into_vec::<f32>().unwrap();
    let diff = max_abs_diff(&got, &want);
    assert!(diff <= 1e-4, "{name} differs by {diff}");
    eprintln!("{name}: within {diff:.1e}");
}

#[test]
fn each_network_matches_facenet_pytorch() {
    let device = Device::flex();
    let nets = MtcnnNets::from_weights(&detector_file().weights, &device);
    let (reg, prob) = nets.pnet.forward(input("pnet_input", &device));
    check(reg, "pnet_reg");
    check(prob, "pnet_prob");
    let (reg, prob) = nets.pnet.forward(input("pnet_image_input", &device));
    check(reg, "pnet_image_reg");
    check(prob, "pnet_image_prob");
    let (reg, prob) = nets.rnet.forward(input("rnet_input", &device));
    check(reg, "rnet_reg");
    check(prob, "rnet_prob");
    let (reg, landmarks, prob) = nets.onet.forward(input("onet_input", &device));
    check(reg, "onet_reg");
    check(landmarks, "onet_landmarks");
    check(prob, "onet_prob");
}

#[test]
fn detections_on_photos_match_facenet_pytorch() {
    let device = Device::flex();
    let detector = detector(&device);
    let text = std::fs::read_to_string(fixture("mtcnn/detections.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    for case in reference["images"].as_array().unwrap() {
        let name = case["image"].as_str().unwrap();
        let image = image::open(fixture(name)).unwrap().to_rgb8();
        let scales = detector.scales(image.width(), image.height());
        let want_scales: Vec<f64> =
            serde_json::from_value(case["trace"]["scales"].clone()).unwrap();
        assert_eq!(
            scales.len(),
            want_scales.len(),
            "{name}: pyramid {scales:?}"
        );
        for (got, want) in scales.iter().zip(&want_scales) {
            assert!((got - want).abs() < 1e-12, "{name}: pyramid {scales:?}");
        }

        let faces = pollster::block_on(detector.detect(&image)).unwrap();
        let want = case["faces"].as_array().unwrap();
        assert_eq!(faces.len(), want.len(), "{name}: {faces:?}");
        for (face, want) in faces.iter().zip(want) {
            let want_box: Vec<f32> = serde_json::from_value(want["box"].clone()).unwrap();
            let box_diff = max_abs_diff(&face.bbox, &want_box);
            assert!(
                box_diff <= 1.0,
                "{name}: box {:?} vs {want_box:?}",
                face.bbox
            );
            let prob_diff = (face.prob - want["prob"].as_f64().unwrap() as f32).abs();
            assert!(
                prob_diff <= 1e-3,
                "{name}: prob {} vs {}",
                face.prob,
                want["prob"]
            );
            let want_points: Vec<[f32; 2]> =
                serde_json::from_value(want["landmarks"].clone()).unwrap();
            let points: Vec<f32> = face.landmarks.iter().flatten().copied().collect();
            let want_points: Vec<f32> = want_points.iter().flatten().copied().collect();
            let point_diff = max_abs_diff(&points, &want_points);
            assert!(
                point_diff <= 1.0,
                "{name}: landmarks differ by {point_diff}"
            );
            eprintln!(
                "{name}: box within {box_diff:.1e} px, prob within {prob_diff:.1e}, landmarks within {point_diff:.1e} px"
            );
        }
    }
}
