//! The contact sheet: one column per identity (the first few), rows live, print and
//! replay, the middle frame of each identity's first video of that kind, the same frames
//! the dataset holds. Labelled with a built-in 5x7 pixel font.

use image::{Rgb, RgbImage};
use model_format::metadata::Interpolation;
use model_format::preprocess::resize;
use rayon::prelude::*;

use super::scene::{Kind, render_video};
use super::{Plan, SynthArgs, assets, identity_subject, video_plan};

/// Identities shown.
pub const COLUMNS: usize = 10;
/// Side of a cell in pixels (frames are resized to it).
pub const CELL: u32 = 112;
const LEFT: u32 = 42;
const TOP: u32 = 24;
const GAP: u32 = 2;
const ROWS: [Kind; 3] = [Kind::Live, Kind::Print, Kind::Replay];

/// The sheet's size for `identities` identities.
pub fn sheet_size(identities: usize) -> (u32, u32) {
    let cols = identities.min(COLUMNS) as u32;
    (
        LEFT + cols * (CELL + GAP),
        TOP + ROWS.len() as u32 * (CELL + GAP),
    )
}

pub fn contact_sheet(args: &SynthArgs, plan: &Plan) -> RgbImage {
    let cols = plan.identities.len().min(COLUMNS);
    let frame = args.frames / 2;
    let cells: Vec<Vec<RgbImage>> = plan.identities[..cols]
        .par_iter()
        .map(|id| {
            let subject = identity_subject(args.seed, id, &plan.people);
            ROWS.par_iter()
                .map(|&kind| {
                    let video = video_plan(args.seed, id.index, kind, 0);
                    let img =
                        render_video(&subject, &video, args.frames, &[frame], args.size, assets())
                            .pop()
                            .expect("one frame");
                    resize(&img, CELL, CELL, Interpolation::Bicubic)
                })
                .collect()
        })
        .collect();
    let (w, h) = sheet_size(plan.identities.len());
    let mut sheet = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    text(&mut sheet, 2, 2, "SYNTHETIC", 1);
    for (c, column) in cells.iter().enumerate() {
        let x = LEFT + c as u32 * (CELL + GAP);
        text(
            &mut sheet,
            x + CELL / 2 - 15,
            13,
            &format!("ID{:03}", plan.identities[c].index),
            1,
        );
        for (r, cell) in column.iter().enumerate() {
            let y = TOP + r as u32 * (CELL + GAP);
            image::imageops::replace(&mut sheet, cell, x as i64, y as i64);
        }
    }
    for (r, kind) in ROWS.iter().enumerate() {
        let y = TOP + r as u32 * (CELL + GAP) + CELL / 2 - 4;
        text(&mut sheet, 2, y, &kind.name().to_ascii_uppercase(), 1);
    }
    sheet
}

/// 5x7 glyphs, one row of five bits per byte (most significant bit left).
fn glyph(c: char) -> [u8; 7] {
    match c {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'N' => [0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x11],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'Y' => [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1E, 0x01, 0x01, 0x0E, 0x01, 0x01, 0x1E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        _ => [0; 7],
    }
}

/// Draws `s` in black at `(x, y)`, each font pixel `scale` pixels.
fn text(img: &mut RgbImage, x: u32, y: u32, s: &str, scale: u32) {
    for (i, c) in s.chars().enumerate() {
        let g = glyph(c);
        for (row, bits) in g.iter().enumerate() {
            for col in 0..5u32 {
                if bits & (0x10 >> col) != 0 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            let px = x + (i as u32 * 6 + col) * scale + dx;
                            let py = y + row as u32 * scale + dy;
                            if px < img.width() && py < img.height() {
                                img.put_pixel(px, py, Rgb([0, 0, 0]));
                            }
                        }
                    }
                }
            }
        }
    }
}
