//! The liveness classifier as both the trainer (`infer`, `eval`) and the page run it: a
//! model file's ViT with the file's preprocessing and threshold, the face crop that the
//! training data were made with, the live score and the decision. One home, so that a
//! verdict on the page and one from `trainer infer` cannot drift apart.

use burn::tensor::{Device, Tensor};
use image::RgbImage;

use crate::crop::{CROP_SIZE, DEFAULT_MARGIN, face_crop};
use crate::preprocess::{ImageView, PreprocessError, batch_tensor, preprocess};
use crate::vit::Vit;
use crate::{ModelFile, Preprocessing};

/// Why a file cannot classify, or an image cannot be classified.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LivenessError {
    /// The file is not a liveness classifier (for example the face detector).
    #[error("{0}")]
    NotAClassifier(crate::MetadataError),
    #[error("preprocessing: {0}")]
    Preprocess(#[from] PreprocessError),
}

/// A liveness classifier on a device.
pub struct Liveness {
    pub vit: Vit,
    pub preprocessing: Preprocessing,
    /// A face is live when its [`live_score`] is at least this.
    pub threshold: f32,
}

impl Liveness {
    /// The classifier of a model file, its weights on `device`.
    pub fn from_file(file: &ModelFile, device: &Device) -> Result<Self, LivenessError> {
        let (config, preprocessing) = file
            .metadata
            .classifier()
            .map_err(LivenessError::NotAClassifier)?;
        Ok(Self {
            vit: Vit::from_weights(config, &file.weights, device),
            preprocessing: preprocessing.clone(),
            threshold: file.metadata.threshold,
        })
    }

    /// Side of the square model input.
    pub fn input_size(&self) -> usize {
        self.preprocessing.input_size
    }

    /// The model input for the face `face_box` (`[x1, y1, x2, y2]`) of `frame`: the crop
    /// `trainer prepare` saves ([`face_crop`]: square, 20 % margin, 224 px), then the
    /// evaluation transform.
    pub fn face_input(
        &self,
        frame: &RgbImage,
        face_box: [f32; 4],
    ) -> Result<Vec<f32>, LivenessError> {
        let crop = face_crop(frame, face_box, DEFAULT_MARGIN, CROP_SIZE);
        self.image_input(ImageView::from(&crop))
    }

    /// The model input for an image that already is the face crop.
    pub fn image_input(&self, image: ImageView<'_>) -> Result<Vec<f32>, LivenessError> {
        Ok(preprocess(image, &self.preprocessing)?)
    }

    /// Logits `[B, classes]` of a batch of inputs (from [`Self::face_input`] or
    /// [`Self::image_input`]), on the device.
    pub fn logits(&self, inputs: &[Vec<f32>], device: &Device) -> Tensor<2> {
        self.vit
            .forward(batch_tensor(inputs, self.input_size(), device))
    }

    /// Whether a live score passes the threshold.
    pub fn is_live(&self, score: f32) -> bool {
        score >= self.threshold
    }
}

/// softmax(logits)[1]: the probability of a live face (classes are attack, live).
pub fn live_score(logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    exp.get(1).copied().unwrap_or(0.0) / exp.iter().sum::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_score_is_softmax_of_index_one() {
        assert!((live_score(&[0.0, 0.0]) - 0.5).abs() < 1e-7);
        // softmax([1, 3])[1] = e^3 / (e^1 + e^3) = 1 / (1 + e^-2)
        let expected = 1.0 / (1.0 + (-2.0f32).exp());
        assert!((live_score(&[1.0, 3.0]) - expected).abs() < 1e-6);
        // Large logits do not overflow.
        assert!(live_score(&[1000.0, 0.0]).abs() < 1e-6);
    }

    /// A tiny liveness file whose weights are all zero: its logits are 0, its score 1/2.
    fn zero_classifier(threshold: f32) -> ModelFile {
        let config = crate::VitConfig::custom(32, 8, 16, 1, 2, 2);
        let mut metadata = crate::Metadata::liveness(config.clone());
        metadata.threshold = threshold;
        let mut weights = crate::Weights::new();
        for (name, shape) in crate::Architecture::Vit(config).tensor_shapes() {
            let n = shape.iter().product();
            weights.insert(name, crate::WeightTensor::new(shape, vec![0.0; n]));
        }
        ModelFile { metadata, weights }
    }

    #[test]
    fn crop_score_and_threshold_of_a_file() {
        let device = Device::flex();
        let liveness = Liveness::from_file(&zero_classifier(0.5), &device).unwrap();
        assert_eq!(liveness.input_size(), 32);
        let frame = RgbImage::from_pixel(80, 60, image::Rgb([90, 120, 150]));
        let input = liveness
            .face_input(&frame, [20.0, 10.0, 50.0, 40.0])
            .unwrap();
        assert_eq!(input.len(), 3 * 32 * 32);
        let logits = liveness.logits(&[input.clone(), input], &device);
        assert_eq!(logits.dims(), [2, 2]);
        let row: Vec<f32> = logits.into_data().try_into_vec_as::<f32>().unwrap()[..2].to_vec();
        let score = live_score(&row);
        assert_eq!(score, 0.5);
        assert!(liveness.is_live(score));
        let stricter = Liveness::from_file(&zero_classifier(0.6), &device).unwrap();
        assert!(!stricter.is_live(score));
    }

    #[test]
    fn a_detector_file_is_not_a_classifier() {
        let detector = ModelFile {
            metadata: crate::Metadata::detector(crate::MtcnnConfig::default()),
            weights: crate::Weights::new(),
        };
        let error = Liveness::from_file(&detector, &Device::flex())
            .err()
            .unwrap();
        assert!(
            matches!(
                &error,
                LivenessError::NotAClassifier(crate::MetadataError::NotAClassifier)
            ),
            "{error}"
        );
        assert!(error.to_string().contains("MTCNN"), "{error}");
    }
}
