//! The draws of a random identity that come before its table of proportions
//! ([`Face::random`]): colours, styling and glasses, in a fixed order.

use super::{FacialHair, Glasses, HAIR, HairStyle, IRIS, SKIN, jitter, rgb8};
use crate::raster::{Blend, Rgb, mul, scale};
use crate::rng::Rng;

/// Skin, hair and iris colours, drawn together: darker skin makes dark hair and eyes
/// likelier.
pub(super) struct Colouring {
    pub(super) melanin: f32,
    pub(super) skin: Rgb,
    pub(super) hair: Rgb,
    pub(super) iris: Rgb,
}

impl Colouring {
    pub(super) fn random(rng: &mut Rng) -> Colouring {
        let melanin = rng.f32();
        let x = melanin * (SKIN.len() - 1) as f32;
        let i = (x as usize).min(SKIN.len() - 2);
        let skin_srgb = rgb8(SKIN[i]).lerp(rgb8(SKIN[i + 1]), x - i as f32);
        // Undertone: a little more red or yellow.
        let under = rng.range(-0.06, 0.06);
        let skin = scale(
            [
                skin_srgb[0] * (1.0 + under),
                skin_srgb[1],
                skin_srgb[2] * (1.0 - under),
            ],
            0.85,
        );
        let hair_weights: [f32; 10] = if melanin > 0.55 {
            [6.0, 3.0, 0.6, 0.1, 0.0, 0.0, 0.1, 0.0, 0.6, 0.3]
        } else {
            [1.5, 2.5, 2.5, 1.5, 1.0, 0.8, 0.5, 0.4, 0.8, 0.3]
        };
        let hair = rgb8(HAIR[rng.weighted(&hair_weights)]);
        let hair = jitter(rng, hair, 0.08);
        let iris_weights: [f32; 6] = if melanin > 0.45 {
            [3.0, 4.0, 0.6, 0.1, 0.05, 0.05]
        } else {
            [2.5, 1.0, 1.0, 0.8, 1.5, 0.6]
        };
        let iris = rgb8(IRIS[rng.weighted(&iris_weights)]);
        let iris = jitter(rng, iris, 0.1);
        Colouring {
            melanin,
            skin,
            hair,
            iris,
        }
    }
}

/// Hair style, facial hair and lip colour.
pub(super) struct Styling {
    pub(super) hair_style: HairStyle,
    pub(super) masculine: bool,
    pub(super) facial_hair: FacialHair,
    pub(super) lips: Rgb,
}

impl Styling {
    pub(super) fn random(rng: &mut Rng, skin: Rgb) -> Styling {
        let hair_style = [
            HairStyle::Bald,
            HairStyle::Buzz,
            HairStyle::Short,
            HairStyle::Medium,
            HairStyle::Long,
            HairStyle::Curly,
            HairStyle::Tied,
        ][rng.weighted(&[0.6, 1.0, 2.5, 1.6, 1.8, 0.9, 0.9])];
        let masculine = rng.chance(0.5);
        let facial_hair = if masculine && hair_style != HairStyle::Long {
            [
                FacialHair::None,
                FacialHair::Stubble,
                FacialHair::Moustache,
                FacialHair::Beard,
            ][rng.weighted(&[3.0, 1.5, 0.5, 1.0])]
        } else {
            FacialHair::None
        };
        let lips = if !masculine && rng.chance(0.25) {
            let c = rgb8(rng.pick(&[[150, 30, 40], [190, 90, 100], [110, 40, 60]]));
            jitter(rng, c, 0.1)
        } else {
            mul(skin, [0.88, 0.66, 0.68])
        };
        Styling {
            hair_style,
            masculine,
            facial_hair,
            lips,
        }
    }
}

impl Glasses {
    pub(super) fn random(rng: &mut Rng) -> Glasses {
        let metal = rng.chance(0.35);
        Glasses {
            half_w: rng.range(0.095, 0.125),
            half_h: rng.range(0.055, 0.08),
            radius: rng.range(0.015, 0.05),
            thickness: if metal {
                rng.range(0.005, 0.008)
            } else {
                rng.range(0.01, 0.02)
            },
            color: if metal {
                rgb8(rng.pick(&[[180, 180, 180], [170, 140, 80], [60, 60, 60]]))
            } else {
                let c = rgb8(rng.pick(&[[15, 15, 15], [60, 35, 20], [20, 30, 70]]));
                jitter(rng, c, 0.1)
            },
            spec: if metal { 0.9 } else { 0.4 },
        }
    }
}
