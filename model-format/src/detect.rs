//! The MTCNN detection pipeline around the networks of [`crate::mtcnn`], following
//! facenet-pytorch's `detect_face` step by step (same pyramid, same area resampling, same
//! NMS variants and box arithmetic in f32), so that boxes agree to a pixel.

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::mtcnn::{MtcnnConfig, MtcnnNets};

/// A detected face in the original image's pixel coordinates.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Face {
    /// `[x1, y1, x2, y2]`
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// O-Net's face probability.
    pub prob: f32,
    /// Left eye, right eye, nose, left and right mouth corners: `[x, y]` each.
    pub landmarks: [[f32; 2]; 5],
}

impl Face {
    pub fn area(&self) -> f32 {
        (self.bbox[2] - self.bbox[0]) * (self.bbox[3] - self.bbox[1])
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("reading network outputs from the device failed: {0}")]
    Readback(String),
    #[error("image is empty ({0}x{1})")]
    Empty(u32, u32),
}

/// An image as f32 planes `[3][height][width]` with values 0..255.
struct Planes {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Planes {
    fn from_rgb(image: &RgbImage) -> Self {
        let (width, height) = (image.width() as usize, image.height() as usize);
        let plane = width * height;
        let mut data = vec![0.0; 3 * plane];
        for (i, px) in image.as_raw().chunks_exact(3).enumerate() {
            for c in 0..3 {
                data[c * plane + i] = px[c] as f32;
            }
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// PyTorch's `interpolate(mode="area")` (adaptive average pooling) of the window
    /// `rows` x `cols` to `out_h` x `out_w`, then MTCNN's normalisation
    /// `(x - 127.5) * 0.0078125`, appended to `out` as `[3, out_h, out_w]`.
    fn area_resample(
        &self,
        rows: std::ops::Range<usize>,
        cols: std::ops::Range<usize>,
        out_h: usize,
        out_w: usize,
        out: &mut Vec<f32>,
    ) {
        let (in_h, in_w) = (rows.len(), cols.len());
        let bounds = |o: usize, out_size: usize, in_size: usize| {
            (
                o * in_size / out_size,
                ((o + 1) * in_size).div_ceil(out_size),
            )
        };
        let plane = self.width * self.height;
        for c in 0..3 {
            let channel = &self.data[c * plane..(c + 1) * plane];
            for oy in 0..out_h {
                let (y0, y1) = bounds(oy, out_h, in_h);
                for ox in 0..out_w {
                    let (x0, x1) = bounds(ox, out_w, in_w);
                    let mut sum = 0.0f32;
                    for y in y0..y1 {
                        let row = &channel[(rows.start + y) * self.width + cols.start..];
                        for value in &row[x0..x1] {
                            sum += value;
                        }
                    }
                    let mean = sum / (y1 - y0) as f32 / (x1 - x0) as f32;
                    out.push((mean - 127.5) * 0.0078125);
                }
            }
        }
    }
}

/// A candidate: box, score and the regression to apply to it.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    bbox: [f32; 4],
    score: f32,
    reg: [f32; 4],
}

/// The face detector: the networks on a device and the settings.
pub struct Detector {
    pub nets: MtcnnNets,
    pub config: MtcnnConfig,
    pub device: Device,
}

/// Crops per forward pass of R-Net and O-Net (facenet-pytorch uses 512).
const STAGE_BATCH: usize = 512;

async fn read(tensor: Tensor<2>) -> Result<Vec<f32>, DetectError> {
    read_data(tensor.into_data_async().await).await
}

async fn read4(tensor: Tensor<4>) -> Result<Vec<f32>, DetectError> {
    read_data(tensor.into_data_async().await).await
}

async fn read_data<E: std::fmt::Debug>(
    data: Result<TensorData, E>,
) -> Result<Vec<f32>, DetectError> {
    data.map_err(|e| DetectError::Readback(format!("{e:?}")))?
        .try_into_vec_as::<f32>()
        .map_err(|e| DetectError::Readback(format!("{e:?}")))
}

impl Detector {
    pub fn new(nets: MtcnnNets, config: MtcnnConfig, device: Device) -> Self {
        Self {
            nets,
            config,
            device,
        }
    }

    /// Pyramid scales for an image of `width` x `height` (facenet-pytorch's, in f64).
    pub fn scales(&self, width: u32, height: u32) -> Vec<f64> {
        let m = 12.0 / self.config.min_face_size;
        let factor = self.config.factor;
        let mut min_side = width.min(height) as f64 * m;
        let mut scale = m;
        let mut scales = Vec::new();
        while min_side >= 12.0 {
            scales.push(scale);
            scale *= factor;
            min_side *= factor;
        }
        scales
    }

    /// All faces in `image`, the largest first.
    pub async fn detect(&self, image: &RgbImage) -> Result<Vec<Face>, DetectError> {
        if image.width() == 0 || image.height() == 0 {
            return Err(DetectError::Empty(image.width(), image.height()));
        }
        let planes = Planes::from_rgb(image);
        let candidates = self.stage_one(&planes).await?;
        let candidates = self.stage_two(&planes, candidates).await?;
        let mut faces = self.stage_three(&planes, candidates).await?;
        // facenet-pytorch's select_largest: descending box area.
        faces.sort_by(|a, b| b.area().total_cmp(&a.area()));
        Ok(faces)
    }

    /// P-Net over the pyramid, NMS per scale then over all, regression, squaring.
    async fn stage_one(&self, planes: &Planes) -> Result<Vec<[f32; 4]>, DetectError> {
        let (w, h) = (planes.width, planes.height);
        let threshold = self.config.thresholds[0];
        let mut all = Vec::new();
        for scale in self.scales(w as u32, h as u32) {
            let hs = (h as f64 * scale + 1.0) as usize;
            let ws = (w as f64 * scale + 1.0) as usize;
            let mut input = Vec::with_capacity(3 * hs * ws);
            planes.area_resample(0..h, 0..w, hs, ws, &mut input);
            let input =
                Tensor::<4>::from_data(TensorData::new(input, [1, 3, hs, ws]), &self.device);
            let (reg, prob) = self.nets.pnet.forward(input);
            let [_, _, oh, ow] = prob.dims();
            let (reg, prob) = (read4(reg).await?, read4(prob).await?);
            let face_prob = &prob[oh * ow..]; // channel 1
            let scale = scale as f32;
            let mut boxes = Vec::new();
            for y in 0..oh {
                for x in 0..ow {
                    let i = y * ow + x;
                    let score = face_prob[i];
                    if score >= threshold {
                        let (bx, by) = (x as f32, y as f32);
                        boxes.push(Candidate {
                            bbox: [
                                ((2.0 * bx + 1.0) / scale).floor(),
                                ((2.0 * by + 1.0) / scale).floor(),
                                ((2.0 * bx + 12.0) / scale).floor(),
                                ((2.0 * by + 12.0) / scale).floor(),
                            ],
                            score,
                            reg: std::array::from_fn(|k| reg[k * oh * ow + i]),
                        });
                    }
                }
            }
            let keep = nms(&boxes, 0.5, Overlap::Union);
            all.extend(keep.into_iter().map(|k| boxes[k]));
        }
        let keep = nms(&all, 0.7, Overlap::Union);
        Ok(keep
            .into_iter()
            .map(|k| {
                let c = all[k];
                let (rw, rh) = (c.bbox[2] - c.bbox[0], c.bbox[3] - c.bbox[1]);
                square([
                    c.bbox[0] + c.reg[0] * rw,
                    c.bbox[1] + c.reg[1] * rh,
                    c.bbox[2] + c.reg[2] * rw,
                    c.bbox[3] + c.reg[3] * rh,
                ])
            })
            .collect())
    }

    /// Crops of `boxes` resampled to `size`, as a batch; boxes whose clipped crop is empty
    /// are dropped (returned alongside).
    fn crops(&self, planes: &Planes, boxes: &[[f32; 4]], size: usize) -> (Vec<[f32; 4]>, Vec<f32>) {
        let mut kept = Vec::new();
        let mut data = Vec::new();
        for b in boxes {
            // facenet-pytorch's pad(): truncate, clip to [1, w] x [1, h], slice from x-1.
            let x = (b[0].trunc() as i64).max(1);
            let y = (b[1].trunc() as i64).max(1);
            let ex = (b[2].trunc() as i64).min(planes.width as i64);
            let ey = (b[3].trunc() as i64).min(planes.height as i64);
            if ey > y - 1 && ex > x - 1 {
                let rows = (y - 1) as usize..ey as usize;
                let cols = (x - 1) as usize..ex as usize;
                planes.area_resample(rows, cols, size, size, &mut data);
                kept.push(*b);
            }
        }
        (kept, data)
    }

    /// R-Net on 24x24 crops: threshold, NMS, regression, squaring.
    async fn stage_two(
        &self,
        planes: &Planes,
        boxes: Vec<[f32; 4]>,
    ) -> Result<Vec<[f32; 4]>, DetectError> {
        let (boxes, data) = self.crops(planes, &boxes, 24);
        let mut passed = Vec::new();
        for (chunk, pixels) in boxes
            .chunks(STAGE_BATCH)
            .zip(data.chunks(STAGE_BATCH * 3 * 24 * 24))
        {
            let input = Tensor::<4>::from_data(
                TensorData::new(pixels.to_vec(), [chunk.len(), 3, 24, 24]),
                &self.device,
            );
            let (reg, prob) = self.nets.rnet.forward(input);
            let (reg, prob) = (read(reg).await?, read(prob).await?);
            for (i, b) in chunk.iter().enumerate() {
                let score = prob[2 * i + 1];
                if score > self.config.thresholds[1] {
                    passed.push(Candidate {
                        bbox: *b,
                        score,
                        reg: std::array::from_fn(|k| reg[4 * i + k]),
                    });
                }
            }
        }
        let keep = nms(&passed, 0.7, Overlap::Union);
        Ok(keep
            .into_iter()
            .map(|k| square(regress(passed[k].bbox, passed[k].reg)))
            .collect())
    }

    /// O-Net on 48x48 crops: threshold, landmarks, regression, NMS over the smaller box.
    async fn stage_three(
        &self,
        planes: &Planes,
        boxes: Vec<[f32; 4]>,
    ) -> Result<Vec<Face>, DetectError> {
        let (boxes, data) = self.crops(planes, &boxes, 48);
        let mut passed = Vec::new();
        let mut landmarks = Vec::new();
        for (chunk, pixels) in boxes
            .chunks(STAGE_BATCH)
            .zip(data.chunks(STAGE_BATCH * 3 * 48 * 48))
        {
            let input = Tensor::<4>::from_data(
                TensorData::new(pixels.to_vec(), [chunk.len(), 3, 48, 48]),
                &self.device,
            );
            let (reg, points, prob) = self.nets.onet.forward(input);
            let (reg, points, prob) = (read(reg).await?, read(points).await?, read(prob).await?);
            for (i, b) in chunk.iter().enumerate() {
                let score = prob[2 * i + 1];
                if score > self.config.thresholds[2] {
                    // Landmarks are relative to the box before its regression.
                    let (bw, bh) = (b[2] - b[0] + 1.0, b[3] - b[1] + 1.0);
                    let p = &points[10 * i..10 * i + 10];
                    landmarks.push(std::array::from_fn(|k| {
                        [bw * p[k] + b[0] - 1.0, bh * p[5 + k] + b[1] - 1.0]
                    }));
                    passed.push(Candidate {
                        bbox: regress(*b, std::array::from_fn(|k| reg[4 * i + k])),
                        score,
                        reg: [0.0; 4],
                    });
                }
            }
        }
        let keep = nms(&passed, 0.7, Overlap::Min);
        Ok(keep
            .into_iter()
            .map(|k| Face {
                bbox: passed[k].bbox,
                prob: passed[k].score,
                landmarks: landmarks[k],
            })
            .collect())
    }
}

/// facenet-pytorch's `bbreg`: offsets scaled by the box size (+1, as pixel counts).
fn regress(b: [f32; 4], reg: [f32; 4]) -> [f32; 4] {
    let (w, h) = (b[2] - b[0] + 1.0, b[3] - b[1] + 1.0);
    [
        b[0] + reg[0] * w,
        b[1] + reg[1] * h,
        b[2] + reg[2] * w,
        b[3] + reg[3] * h,
    ]
}

/// facenet-pytorch's `rerec`: the square of the longer side, same centre.
fn square(b: [f32; 4]) -> [f32; 4] {
    let (h, w) = (b[3] - b[1], b[2] - b[0]);
    let l = w.max(h);
    let x1 = b[0] + w * 0.5 - l * 0.5;
    let y1 = b[1] + h * 0.5 - l * 0.5;
    [x1, y1, x1 + l, y1 + l]
}

#[derive(Clone, Copy, PartialEq)]
enum Overlap {
    /// torchvision's `nms`: intersection over union, areas without +1.
    Union,
    /// facenet-pytorch's numpy NMS 'Min': intersection over the smaller area, +1 areas.
    Min,
}

/// Greedy non-maximum suppression; indices kept, best score first. Suppresses a box when
/// its overlap with a kept one exceeds `threshold`.
fn nms(candidates: &[Candidate], threshold: f32, overlap: Overlap) -> Vec<usize> {
    let plus = if overlap == Overlap::Min { 1.0 } else { 0.0 };
    let area = |b: &[f32; 4]| (b[2] - b[0] + plus) * (b[3] - b[1] + plus);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| candidates[b].score.total_cmp(&candidates[a].score));
    let mut suppressed = vec![false; candidates.len()];
    let mut keep = Vec::new();
    for (n, &i) in order.iter().enumerate() {
        if suppressed[i] {
            continue;
        }
        keep.push(i);
        let a = &candidates[i].bbox;
        let area_a = area(a);
        for &j in &order[n + 1..] {
            if suppressed[j] {
                continue;
            }
            let b = &candidates[j].bbox;
            let w = (a[2].min(b[2]) - a[0].max(b[0]) + plus).max(0.0);
            let h = (a[3].min(b[3]) - a[1].max(b[1]) + plus).max(0.0);
            let inter = w * h;
            let ratio = match overlap {
                Overlap::Union => inter / (area_a + area(b) - inter),
                Overlap::Min => inter / area_a.min(area(b)),
            };
            if ratio > threshold {
                suppressed[j] = true;
            }
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(bbox: [f32; 4], score: f32) -> Candidate {
        Candidate {
            bbox,
            score,
            reg: [0.0; 4],
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let boxes = [
            candidate([0.0, 0.0, 10.0, 10.0], 0.8),
            candidate([1.0, 1.0, 11.0, 11.0], 0.9), // IoU with the first: 81 / 119 = 0.68
            candidate([20.0, 20.0, 30.0, 30.0], 0.5),
        ];
        assert_eq!(nms(&boxes, 0.5, Overlap::Union), vec![1, 2]);
        assert_eq!(nms(&boxes, 0.7, Overlap::Union), vec![1, 0, 2]);
        // 'Min' with +1 areas: inter 10 * 10 = 100 over min area 121 = 0.83.
        assert_eq!(nms(&boxes, 0.8, Overlap::Min), vec![1, 2]);
        assert_eq!(nms(&boxes, 0.85, Overlap::Min), vec![1, 0, 2]);
    }

    #[test]
    fn square_and_regress_follow_facenet() {
        assert_eq!(square([10.0, 20.0, 30.0, 60.0]), [0.0, 20.0, 40.0, 60.0]);
        // w = h = 11 pixels: offsets scale by 11.
        let got = regress([0.0, 0.0, 10.0, 10.0], [0.1, -0.1, 0.2, 0.0]);
        for (g, w) in got.iter().zip([1.1, -1.1, 12.2, 10.0]) {
            assert!((g - w).abs() < 1e-5, "{got:?}");
        }
    }

    #[test]
    fn area_resample_averages_windows_like_pytorch() {
        // One 4x2 image (all channels equal): downsample to 2x1 and upsample to 3x3.
        let values = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0];
        let planes = Planes {
            width: 4,
            height: 2,
            data: [values; 3].concat(),
        };
        let mut out = Vec::new();
        planes.area_resample(0..2, 0..4, 1, 2, &mut out);
        let back = |v: f32| v / 0.0078125 + 127.5;
        // Windows: columns 0..2 and 2..4 over both rows.
        assert_eq!(back(out[0]), 25.0);
        assert_eq!(back(out[1]), 45.0);
        out.clear();
        planes.area_resample(0..2, 1..3, 3, 3, &mut out);
        // 2x2 window (10, 20, 50, 60) to 3x3: start floor(i*2/3), end ceil((i+1)*2/3).
        let expected = [10.0, 15.0, 20.0, 30.0, 35.0, 40.0, 50.0, 55.0, 60.0];
        for (got, want) in out[..9].iter().zip(expected) {
            assert!((back(*got) - want).abs() < 1e-3, "{} vs {want}", back(*got));
        }
    }
}
