//! The page's pipeline on a Burn device: model files in, faces and live scores out.
//! Every step is the shared code the trainer runs (`model_format`): MTCNN detection and
//! the liveness classifier ([`model_format::Liveness`]: the face crop of `trainer
//! prepare`, the DeiT evaluation transform, the ViT, the live score). Only the device
//! differs, and results are read back asynchronously (WebGPU cannot block).
//!
//! Compiles for every target, so that native tests hold it to `trainer infer`.

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use model_format::{Architecture, Detector, Face, ModelFile, MtcnnConfig, MtcnnNets, live_score};
use serde::Serialize;

use crate::track::{Plan, offset_faces};

/// In camera and video mode the smallest face searched for in a whole frame is this
/// fraction of the frame's shorter side (a visitor in front of a camera fills far more),
/// which makes the whole-frame detection several times cheaper than facenet-pytorch's
/// 20 px. Still images use the detector file's own setting, as `trainer infer` does.
pub const LIVE_MIN_FACE_FRACTION: f64 = 1.0 / 8.0;

/// What the page shows about a model file.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ModelFacts {
    /// File name or URL.
    pub name: String,
    /// Size of the file in bytes.
    pub bytes: usize,
    pub architecture: String,
    pub parameters: usize,
    pub input_size: Option<usize>,
    /// Storage dtype of the weights (f32, f16, int8); computation is f32.
    pub storage: String,
    pub threshold: f32,
    pub classes: Vec<String>,
    pub provenance: model_format::Provenance,
}

impl ModelFacts {
    pub fn of(name: &str, bytes: usize, file: &ModelFile) -> Self {
        let meta = &file.metadata;
        Self {
            name: name.to_string(),
            bytes,
            architecture: meta.architecture.name().to_string(),
            parameters: file.weights.values().map(|w| w.data.len()).sum(),
            input_size: meta.preprocessing.as_ref().map(|p| p.input_size),
            storage: meta.storage.to_string(),
            threshold: meta.threshold,
            classes: meta.classes.clone(),
            provenance: meta.provenance.clone(),
        }
    }
}

/// The liveness classifier on a device ([`model_format::Liveness`], as `trainer infer`
/// runs it), with what the page shows about its file.
pub struct Liveness {
    pub classifier: model_format::Liveness,
    pub facts: ModelFacts,
}

impl Liveness {
    /// Reads, validates and loads a liveness model file; the error names the file and
    /// the problem (a damaged file, or a detector given as the liveness model).
    pub fn from_bytes(name: &str, bytes: &[u8], device: &Device) -> Result<Self, String> {
        let file = ModelFile::from_bytes(name, bytes).map_err(|e| e.to_string())?;
        let facts = ModelFacts::of(name, bytes.len(), &file);
        let classifier =
            model_format::Liveness::from_file(&file, device).map_err(|e| format!("{name}: {e}"))?;
        Ok(Self { classifier, facts })
    }

    /// Live when the score is at least this.
    pub fn threshold(&self) -> f32 {
        self.classifier.threshold
    }

    /// The model input for the face `face_box` of `frame` (the trainer's crop and
    /// evaluation transform).
    pub fn input(&self, frame: &RgbImage, face_box: [f32; 4]) -> Result<Vec<f32>, String> {
        self.classifier
            .face_input(frame, face_box)
            .map_err(|e| e.to_string())
    }

    /// Logits of one preprocessed input.
    pub async fn logits(&self, input: Vec<f32>, device: &Device) -> Result<Vec<f32>, String> {
        read(self.classifier.logits(&[input], device)).await
    }

    /// Logits and live score of the face `face_box` of `frame`.
    pub async fn classify(
        &self,
        frame: &RgbImage,
        face_box: [f32; 4],
        device: &Device,
    ) -> Result<(Vec<f32>, f32), String> {
        let logits = self.logits(self.input(frame, face_box)?, device).await?;
        let score = live_score(&logits);
        Ok((logits, score))
    }

    /// One forward pass on a blank input (compiles the GPU kernels before the first face).
    pub async fn warm_up(&self, device: &Device) -> Result<(), String> {
        let size = self.classifier.input_size();
        self.logits(vec![0.0; 3 * size * size], device)
            .await
            .map(|_| ())
    }
}

/// The MTCNN face detector on a device.
pub struct FaceDetector {
    pub nets: MtcnnNets,
    /// The file's settings (used as they are for still images).
    pub config: MtcnnConfig,
    pub facts: ModelFacts,
    pub device: Device,
}

impl FaceDetector {
    pub fn from_bytes(name: &str, bytes: &[u8], device: &Device) -> Result<Self, String> {
        let file = ModelFile::from_bytes(name, bytes).map_err(|e| e.to_string())?;
        let facts = ModelFacts::of(name, bytes.len(), &file);
        let Architecture::Mtcnn(config) = file.metadata.architecture.clone() else {
            return Err(format!(
                "{name}: a liveness classifier, not the face detector (MTCNN)"
            ));
        };
        Ok(Self {
            nets: MtcnnNets::from_weights(&file.weights, device),
            config,
            facts,
            device: device.clone(),
        })
    }

    fn detector(&self, min_face_size: f64) -> Detector {
        let config = MtcnnConfig {
            min_face_size,
            ..self.config.clone()
        };
        Detector::new(self.nets.clone(), config, self.device.clone())
    }

    /// All faces of a still image, the largest first: exactly `trainer infer`'s detection.
    pub async fn detect_still(&self, image: &RgbImage) -> Result<Vec<Face>, String> {
        self.detector(self.config.min_face_size)
            .detect(image)
            .await
            .map_err(|e| e.to_string())
    }

    /// The faces of a video frame under the tracker's `plan`, in frame coordinates, the
    /// largest first.
    pub async fn detect_frame(&self, frame: &RgbImage, plan: &Plan) -> Result<Vec<Face>, String> {
        match plan {
            Plan::Full => {
                let shorter = frame.width().min(frame.height()) as f64;
                let min_face = (shorter * LIVE_MIN_FACE_FRACTION).max(self.config.min_face_size);
                self.detector(min_face)
                    .detect(frame)
                    .await
                    .map_err(|e| e.to_string())
            }
            Plan::Window {
                window: [x, y, w, h],
                min_face,
            } => {
                let part = image::imageops::crop_imm(frame, *x, *y, *w, *h).to_image();
                let mut faces = self
                    .detector(*min_face)
                    .detect(&part)
                    .await
                    .map_err(|e| e.to_string())?;
                offset_faces(&mut faces, *x, *y);
                Ok(faces)
            }
        }
    }

    /// Runs the three networks once on blank inputs, and a whole-frame detection on a
    /// blank `width` x `height` frame (compiles the GPU kernels before the first frame).
    pub async fn warm_up(&self, width: u32, height: u32) -> Result<(), String> {
        let device = &self.device;
        let blank = |n: usize, size: usize| {
            Tensor::<4>::from_data(
                TensorData::new(vec![0.0f32; n * 3 * size * size], [n, 3, size, size]),
                device,
            )
        };
        let flat = |t: Tensor<4>| {
            let n = t.dims().iter().product::<usize>();
            t.reshape([1, n])
        };
        let (reg, prob) = self.nets.pnet.forward(blank(1, 24));
        read(flat(reg)).await?;
        read(flat(prob)).await?;
        let (reg, prob) = self.nets.rnet.forward(blank(2, 24));
        read(reg).await?;
        read(prob).await?;
        let (reg, points, prob) = self.nets.onet.forward(blank(2, 48));
        read(reg).await?;
        read(points).await?;
        read(prob).await?;
        let frame = RgbImage::from_pixel(width.max(1), height.max(1), image::Rgb([128; 3]));
        self.detect_frame(&frame, &Plan::Full).await.map(|_| ())
    }
}

/// A 2-D tensor's values, read back from the device without blocking.
async fn read(tensor: Tensor<2>) -> Result<Vec<f32>, String> {
    tensor
        .into_data_async()
        .await
        .map_err(|e| format!("reading results from the device failed: {e:?}"))?
        .try_into_vec_as::<f32>()
        .map_err(|e| format!("reading results from the device failed: {e:?}"))
}

/// Decodes an image file (PNG, JPEG, BMP, WebP) to 8-bit RGB, as `trainer infer` reads
/// its images, so that a still image gives the trainer's exact pixels.
pub fn decode_image(name: &str, bytes: &[u8]) -> Result<RgbImage, String> {
    image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("{name}: {e}"))?
        .decode()
        .map(|image| image.to_rgb8())
        .map_err(|e| format!("{name}: cannot decode the image ({e})"))
}

/// The result of one analysed frame or image.
#[derive(Serialize, Clone, Debug, Default)]
pub struct Analysis {
    /// The face classified (the largest, or the tracked one); `None` without a face.
    pub face: Option<Face>,
    pub logits: Option<Vec<f32>>,
    /// softmax(logits)[1] of this frame.
    pub score: Option<f32>,
}

/// A still image through the whole pipeline, as `trainer infer IMAGE` computes it:
/// the largest face (file settings), its crop, the live score.
pub async fn analyse_still(
    detector: &FaceDetector,
    liveness: &Liveness,
    image: &RgbImage,
) -> Result<Analysis, String> {
    let face = detector.detect_still(image).await?.into_iter().next();
    let Some(face) = face else {
        return Ok(Analysis::default());
    };
    let (logits, score) = liveness
        .classify(image, face.bbox, &detector.device)
        .await?;
    Ok(Analysis {
        face: Some(face),
        logits: Some(logits),
        score: Some(score),
    })
}
