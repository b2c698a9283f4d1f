//! The procedural head's texture, texel by texel: skin, features, hair, beard, clothes and
//! glasses as layers of albedo, height and material ([`texel`]), and the eyes painted over
//! it at render time ([`eye_overlay`]). Coordinates and units as in [`super::face`].

use super::face::{EyeState, Face, FacialHair, HairStyle, TEXEL, Texel, normalize};
use super::raster::{Blend, Rgb, coverage, mix, mul, scale, smoothstep};
use super::rng::{fbm, hash2, value_noise};

/// Paints a layer of coverage `cov` over `t`.
#[inline]
fn paint(t: &mut Texel, cov: f32, albedo: Rgb, height: f32, mat: (f32, f32, f32)) {
    if cov <= 0.0 {
        return;
    }
    t.albedo = mix(t.albedo, albedo, cov);
    t.height += (height - t.height) * cov;
    t.alpha += (1.0 - t.alpha) * cov;
    t.spec += (mat.0 - t.spec) * cov;
    t.shininess += (mat.1 - t.shininess) * cov;
    t.wrap += (mat.2 - t.wrap) * cov;
}

const SKIN_MAT: (f32, f32, f32) = (0.06, 16.0, 0.35);
const HAIR_MAT: (f32, f32, f32) = (0.1, 24.0, 0.1);
const CLOTH_MAT: (f32, f32, f32) = (0.02, 6.0, 0.05);

/// Hair colour with strands: radial from the crown on top, hanging on the sides.
fn hair_albedo(f: &Face, u: f32, v: f32) -> (Rgb, f32) {
    let s = f.seed.wrapping_add(11);
    let crown = (f.part_u, f.top_v + 0.25);
    let (du, dv) = (u - crown.0, v - crown.1);
    let strands = if f.hair_style == HairStyle::Curly {
        let c = fbm(u * 45.0, v * 45.0, s, 3);
        ((c * 14.0).sin() * 0.5 + 0.5) * 0.7 + 0.3 * value_noise(u * 160.0, v * 160.0, s)
    } else {
        let angle = du.atan2(dv.max(0.05));
        let r = (du * du + dv * dv).sqrt();
        let along = if v < crown.1 + 0.2 { r * 6.0 } else { v * 5.0 };
        let across = if v < crown.1 + 0.2 {
            angle * 90.0
        } else {
            u * 220.0 + (v * 3.0).sin() * 6.0 + 3.0 * value_noise(u * 8.0, v * 4.0, s + 3)
        };
        0.6 * value_noise(across, along, s) + 0.4 * value_noise(across * 3.1, along * 2.0, s + 1)
    };
    let clump = fbm(u * 9.0, v * 9.0, s + 2, 2);
    let k = 0.7 + 0.5 * strands * (0.6 + 0.8 * clump);
    (scale(f.hair, k), strands)
}

/// The texel of a procedural head at face-local `(u, v)`, painted back to front.
pub(super) fn texel(f: &Face, u: f32, v: f32) -> Texel {
    let mut t = Texel {
        shininess: 1.0,
        ao: 1.0,
        ..Texel::default()
    };
    paint_long_hair(&mut t, f, u, v);
    paint_torso(&mut t, f, u, v);
    paint_ears(&mut t, f, u, v);
    paint_head(&mut t, f, u, v);
    paint_scalp_hair(&mut t, f, u, v);
    paint_glasses(&mut t, f, u, v);
    t
}

/// Edge softness of painted shapes, in face units.
const AA: f32 = TEXEL * 0.8;

/// Skin albedo with blotches, pores and redness.
fn skin_noise(f: &Face, u: f32, v: f32) -> Rgb {
    let blotch = fbm(u * 7.0, v * 7.0, f.seed, 3) - 0.5;
    let pores = value_noise(u * 170.0, v * 170.0, f.seed.wrapping_add(3)) - 0.5;
    let red = fbm(u * 4.0, v * 4.0, f.seed.wrapping_add(5), 2) - 0.5;
    let k = 1.0 + 0.12 * blotch + 0.05 * pores;
    [
        f.skin[0] * k * (1.0 + 0.1 * red),
        f.skin[1] * k,
        f.skin[2] * k * (1.0 - 0.05 * red),
    ]
}

/// Long hair falling behind the neck and shoulders.
fn paint_long_hair(t: &mut Texel, f: &Face, u: f32, v: f32) {
    let au = u.abs();
    let long = matches!(f.hair_style, HairStyle::Long | HairStyle::Curly);
    if long && v > -0.2 && v < f.hair_len_v + 0.1 {
        let width = f.cheek_w + f.hair_vol + 0.06 * smoothstep(0.0, 0.8, v);
        let ragged = 0.04 * (value_noise(u * 25.0, 0.0, f.seed) - 0.5);
        let cov = coverage(au - width, 0.01)
            * coverage(v - f.hair_len_v - ragged - 0.05 * (u * 6.0).cos(), 0.015);
        let (c, strands) = hair_albedo(f, u, v);
        paint(t, cov, scale(c, 0.8), 0.02 + 0.01 * strands, HAIR_MAT);
    }
}

/// Neck and chest skin, then clothes with a neckline.
fn paint_torso(t: &mut Texel, f: &Face, u: f32, v: f32) {
    let au = u.abs();
    if v > 0.0 {
        let neck_hw = f.neck_w * (1.0 + 0.1 * smoothstep(0.5, 0.8, v));
        let torso_hw = neck_hw
            + (f.shoulder_w - neck_hw)
                * smoothstep(f.shoulder_v - 0.3, f.shoulder_v + 0.25, v).sqrt();
        let cov = coverage(au - torso_hw, AA);
        let x = (au / torso_hw).min(1.0);
        let z = 0.18 * (1.0 - x * x).max(0.0).sqrt();
        paint(t, cov, scale(skin_noise(f, u, v), 0.9), z, SKIN_MAT);
        let neckline =
            f.shoulder_v - 0.08 + f.neckline * (1.0 - (au / (f.neck_w * 1.7)).powi(2)).max(0.0);
        let cloth = coverage(neckline - v, 0.006) * cov;
        let weave = 1.0 + 0.08 * (fbm(u * 30.0, v * 30.0, f.seed.wrapping_add(9), 2) - 0.5);
        let folds = 1.0 + 0.15 * (fbm(u * 4.0, v * 6.0, f.seed.wrapping_add(10), 2) - 0.5);
        paint(
            t,
            cloth,
            scale(f.clothes, weave * folds),
            z + 0.03,
            CLOTH_MAT,
        );
    }
}

/// Ears, beside the head at the eyes' to the nose's height.
fn paint_ears(t: &mut Texel, f: &Face, u: f32, v: f32) {
    let au = u.abs();
    let ear_x = f.half_width(f.ear_v) - 0.015;
    let (ex, ey) = (
        (au - ear_x - f.ear_w * 0.5) / (f.ear_w * 0.75),
        (v - f.ear_v) / f.ear_h,
    );
    let ear_r = (ex * ex + ey * ey).sqrt();
    if ear_r < 1.3 {
        let cov = coverage((ear_r - 1.0) * f.ear_w * 0.75, AA);
        let inner = smoothstep(
            0.75,
            0.35,
            ((ex + 0.15).powi(2) + (ey * 1.1).powi(2)).sqrt(),
        );
        let mut c = mul(skin_noise(f, u, v), [1.04, 0.95, 0.95]);
        c = scale(c, 1.0 - 0.35 * inner);
        paint(
            t,
            cov,
            c,
            0.06 + 0.03 * (1.0 - ear_r).max(0.0) - 0.03 * inner,
            SKIN_MAT,
        );
    }
}

/// The head: skin of the face and scalp, with its features painted into the skin.
fn paint_head(t: &mut Texel, f: &Face, u: f32, v: f32) {
    let au = u.abs();
    let hw = f.half_width(v);
    if !(hw > 0.0 && au < hw + 0.02) {
        return;
    }
    let cov = coverage(au - hw, AA);
    let z = f.head_z(u, v) + f.features_z(u, v);
    let mut c = skin_noise(f, u, v);
    c = tint_skin(c, f, u, v);
    c = paint_brows(c, f, u, v);
    c = paint_lips(c, f, u, v);
    c = paint_nostrils(c, f, u, v);
    c = paint_closed_lids(c, f, u, v);
    let (c, hair_z) = paint_facial_hair(c, f, u, v);
    paint(t, cov, c, z + hair_z, SKIN_MAT);
    if cov > 0.0 {
        // Lips shine more than skin.
        let lip_shine = smoothstep(0.06, 0.0, (v - f.mouth_v).abs())
            * smoothstep(f.mouth_w, f.mouth_w * 0.7, au);
        t.spec += 0.15 * lip_shine * cov;
    }
}

/// Cheeks and nose tip a little redder, under the eyes a little darker.
fn tint_skin(mut c: Rgb, f: &Face, u: f32, v: f32) -> Rgb {
    let au = u.abs();
    let g = |x: f32, y: f32| (-(x * x + y * y)).exp();
    let blush =
        0.12 * g((au - 0.22) / 0.09, (v - 0.08) / 0.08) + 0.1 * g(u / 0.04, (v - f.nose_v) / 0.03);
    c = mul(c, [1.0 + blush * 0.3, 1.0 - blush, 1.0 - blush]);
    c = scale(
        c,
        1.0 - 0.08 * g((au - f.eye_u) / 0.07, (v - f.eye_v - 0.05) / 0.025),
    );
    if f.eye_shadow > 0.0 {
        let lid = g((au - f.eye_u) / 0.08, (v - f.eye_v + 0.03) / 0.025);
        c = scale(c, 1.0 - f.eye_shadow * lid);
    }
    // Freckles and moles.
    if f.freckles > 0.0 {
        let spot = hash2((u * 120.0) as i32, (v * 120.0) as i32, f.seed);
        let density = f.freckles * g((au - 0.15) / 0.18, (v - 0.0) / 0.12);
        if spot < 0.25 * density {
            c = mul(c, [0.8, 0.72, 0.7]);
        }
    }
    for m in &f.moles {
        let d = ((u - m[0]).powi(2) + (v - m[1]).powi(2)).sqrt();
        c = mix(
            c,
            mul(f.skin, [0.45, 0.35, 0.3]),
            coverage(d - m[2], AA) * 0.8,
        );
    }
    c
}

/// Eyebrows: tapering bands of hair strokes.
fn paint_brows(mut c: Rgb, f: &Face, u: f32, v: f32) -> Rgb {
    let au = u.abs();
    let side = if u < 0.0 { -1.0 } else { 1.0 };
    let bt = (au - 0.06) / 0.26;
    if (-0.1..1.1).contains(&bt) {
        let centre =
            f.eye_v - f.brow_gap - f.brow_arch * (std::f32::consts::PI * bt).sin() + 0.01 * bt;
        let thick = f.brow_thick * (1.0 - 0.5 * bt.clamp(0.0, 1.0));
        let d = (v - centre).abs() - thick * 0.5;
        let ends = smoothstep(-0.1, 0.05, bt) * smoothstep(1.1, 0.9, bt);
        let strokes = value_noise(
            u * 260.0 + v * 90.0 * side,
            v * 40.0,
            f.seed.wrapping_add(7),
        );
        let cov_b = coverage(d, 0.006) * ends * (0.55 + 0.45 * strokes);
        c = mix(c, f.brow, cov_b * 0.9);
    }
    c
}

/// Lips with a cupid's bow, the mouth line.
fn paint_lips(mut c: Rgb, f: &Face, u: f32, v: f32) -> Rgb {
    let au = u.abs();
    let lu = u / f.mouth_w;
    if lu.abs() < 1.1 {
        let arc = (1.0 - lu * lu).max(0.0);
        let bow = 1.0 - 0.35 * (-(u / 0.025).powi(2)).exp()
            + 0.1 * (-(((au - 0.03) / 0.02).powi(2))).exp();
        let lift = f.smile * lu * lu;
        let top = f.mouth_v - lift - f.lip_up * arc.powf(0.35) * bow;
        let bottom = f.mouth_v - lift + f.lip_low * arc.sqrt();
        let lip_cov = coverage(top - v, 0.004) * coverage(v - bottom, 0.004);
        // The upper lip faces down and is darker; fine vertical creases.
        let upper = if v < f.mouth_v { 0.82 } else { 1.0 };
        let creases = 0.93 + 0.1 * value_noise(u * 260.0, v * 30.0, f.seed);
        let lip_c = scale(f.lips, upper * creases);
        c = mix(c, lip_c, lip_cov);
        let line = coverage(
            (v - f.mouth_v + lift - 0.004 * lu * lu).abs() - 0.002 * arc.sqrt(),
            0.0015,
        );
        c = mix(
            c,
            scale(f.lips, 0.25),
            line * smoothstep(1.05, 0.85, lu.abs()),
        );
    }
    c
}

/// Nostrils.
fn paint_nostrils(mut c: Rgb, f: &Face, u: f32, v: f32) -> Rgb {
    let au = u.abs();
    let (nx, ny) = (
        (au - f.nose_w * 0.42) / (f.nose_w * 0.28),
        (v - f.nose_v - 0.03) / 0.011,
    );
    let nr = (nx * nx + ny * ny).sqrt();
    c = mix(
        c,
        mul(f.skin, [0.3, 0.2, 0.2]),
        coverage(nr - 1.0, 0.25) * 0.85,
    );
    c
}

/// Closed eyelids (the open eye is drawn per frame): lash line, crease.
fn paint_closed_lids(mut c: Rgb, f: &Face, u: f32, v: f32) -> Rgb {
    for s in [-1.0f32, 1.0] {
        let (a, b) = eye_local(f, s, u, v);
        if a.abs() < 1.2 && b.abs() < 3.0 {
            let closed = f.eye_h * 0.3 * (1.0 - a * a).max(0.0);
            let lash = coverage((b * f.eye_h - closed).abs() - 0.003, 0.002)
                * smoothstep(1.08, 0.9, a.abs());
            c = mix(c, [0.02, 0.015, 0.012], lash * 0.9);
            let crease = -f.eye_h * 1.7 * (1.0 - a * a).max(0.0).powf(0.7);
            let cr = coverage((b * f.eye_h - crease).abs() - 0.002, 0.003)
                * smoothstep(1.0, 0.6, a.abs());
            c = scale(c, 1.0 - 0.25 * cr);
        }
    }
    c
}

/// Facial hair.
fn paint_facial_hair(mut c: Rgb, f: &Face, u: f32, v: f32) -> (Rgb, f32) {
    let au = u.abs();
    let beard_region = match f.facial_hair {
        FacialHair::None => 0.0,
        FacialHair::Stubble | FacialHair::Beard => {
            let lower = smoothstep(f.nose_v + 0.02, f.nose_v + 0.12, v)
                .max(smoothstep(0.45, 0.25, au) * smoothstep(f.mouth_v - 0.06, f.mouth_v - 0.03, v))
                .max(smoothstep(0.03, 0.12, v) * smoothstep(0.2, 0.32, au));
            let not_lips = 1.0
                - smoothstep(f.mouth_w + 0.02, f.mouth_w - 0.01, au)
                    * smoothstep(f.lip_up + 0.012, f.lip_up, (v - f.mouth_v).abs().min(0.05));
            lower * not_lips
        }
        FacialHair::Moustache => {
            smoothstep(f.mouth_w + 0.03, f.mouth_w - 0.01, au)
                * smoothstep(f.nose_v + 0.025, f.nose_v + 0.04, v)
                * smoothstep(f.mouth_v - 0.002, f.mouth_v - 0.015, v)
        }
    };
    let mut hair_z = 0.0;
    if beard_region > 0.0 {
        let dots = value_noise(u * 220.0, v * 220.0, f.seed.wrapping_add(13));
        let amount = match f.facial_hair {
            FacialHair::Stubble => 0.45 * f.beard_density * (dots > 0.45) as u8 as f32,
            _ => f.beard_density * (0.7 + 0.3 * dots),
        };
        let (hc, strands) = hair_albedo(f, u, v);
        c = mix(
            c,
            scale(hc, 0.7 + 0.3 * strands),
            beard_region * amount.min(1.0),
        );
        if f.facial_hair == FacialHair::Beard {
            hair_z = 0.02 * beard_region;
        }
    }
    (c, hair_z)
}

/// Hair on the head: cap, sides, fringe.
fn paint_scalp_hair(t: &mut Texel, f: &Face, u: f32, v: f32) {
    let au = u.abs();
    if f.hair_style != HairStyle::Bald || (v > -0.6 && v < f.ear_v) {
        let vol = f.hair_vol;
        let skull_hw = |vv: f32| f.skull_hw(vv.min(-0.001), 0.0);
        let edge_noise = 0.012 * (value_noise(u * 30.0, v * 30.0, f.seed.wrapping_add(17)) - 0.5);
        let cap = if f.hair_style == HairStyle::Curly {
            let (cx, cy) = (u / (f.cheek_w + vol), (v + 0.35) / (0.68 + vol));
            coverage(
                ((cx * cx + cy * cy).sqrt() - 1.0) * 0.4 + edge_noise * 2.0,
                0.012,
            )
        } else {
            let hw = f.skull_hw(v.min(-0.001), vol);
            if hw > 0.01 {
                coverage(au - hw + edge_noise, 0.015)
            } else {
                0.0
            }
        };
        let above = coverage(v - f.hairline(u) + edge_noise, 0.014);
        let mut cov = cap * above;
        if f.hair_style == HairStyle::Bald {
            // A ring of short hair above the ears only.
            cov *= smoothstep(0.24, 0.34, au) * smoothstep(-0.65, -0.5, v);
        }
        // Sides hanging beside the face.
        if f.hair_len_v > 0.0 && v > f.hairline(u) - 0.05 && v < f.hair_len_v + 0.1 {
            let face_hw = f.half_width(v.min(f.chin_v - 0.01)).max(f.neck_w);
            let inner = face_hw - 0.03 - 0.03 * smoothstep(-0.4, 0.0, v);
            let outer = f.cheek_w + vol + 0.04 * smoothstep(0.0, 0.6, v);
            let side = coverage(inner - au + edge_noise, 0.015)
                * coverage(au - outer + edge_noise, 0.01)
                * coverage(v - f.hair_len_v - 0.04 * (u * 7.0 + f.part_u).sin(), 0.015);
            cov = cov.max(side);
        }
        if let Some(fringe) = f.fringe {
            let jag = 0.02 * (value_noise(u * 18.0, 0.0, f.seed.wrapping_add(19)) - 0.5);
            let band = coverage(v - fringe - jag - 0.04 * (u / 0.3).powi(2), 0.006)
                * coverage(au - skull_hw(fringe) - vol, 0.01)
                * smoothstep(-0.8, -0.5, v.max(-0.8));
            cov = cov.max(band);
        }
        if cov > 0.0 {
            let (hc, strands) = hair_albedo(f, u, v);
            // Wispy edges: where the hair thins out, strands decide.
            let cov = cov * (1.0 - (1.0 - cov) * (1.0 - strands).clamp(0.0, 1.0));
            let head = f.head_z(u, v.min(-0.2)).max(f.head_z(u, v));
            let z = head + vol * 0.3 + 0.008 * strands + 0.01;
            let (c, mat) = match f.hair_style {
                HairStyle::Buzz | HairStyle::Bald => {
                    let dots = value_noise(u * 250.0, v * 250.0, f.seed.wrapping_add(23));
                    (mix(f.skin, hc, 0.55 + 0.35 * dots), (0.1, 15.0, 0.2))
                }
                _ => (hc, HAIR_MAT),
            };
            paint(t, cov, c, z, mat);
            // Hair shades the skin just under it.
            t.ao *= 1.0 - 0.25 * cov * (1.0 - cov);
        }
    }
}

/// Glasses: two rims, a bridge, the temples towards the ears.
fn paint_glasses(t: &mut Texel, f: &Face, u: f32, v: f32) {
    let au = u.abs();
    if let Some(g) = &f.glasses {
        let (cx, cy) = (au - f.eye_u, v - f.eye_v - 0.005);
        let q = (
            (cx.abs() - g.half_w + g.radius).max(0.0),
            (cy.abs() - g.half_h + g.radius).max(0.0),
        );
        let box_d = (q.0 * q.0 + q.1 * q.1).sqrt()
            + (cx.abs() - g.half_w + g.radius)
                .max(cy.abs() - g.half_h + g.radius)
                .min(0.0)
            - g.radius;
        let rim = coverage(box_d.abs() - g.thickness * 0.5, AA);
        let bridge = coverage(au - (f.eye_u - g.half_w) - 0.005, AA)
            * coverage((v - f.eye_v + g.half_h * 0.4).abs() - g.thickness * 0.4, AA);
        let temple = coverage((v - f.eye_v + g.half_h * 0.6).abs() - g.thickness * 0.4, AA)
            * smoothstep(f.eye_u + g.half_w - 0.01, f.eye_u + g.half_w, au)
            * smoothstep(f.cheek_w + 0.08, f.cheek_w + 0.04, au);
        let cov = rim.max(bridge).max(temple);
        let z = f.head_z(u, v) + f.features_z(u, v).max(0.0) + 0.05;
        let z = z.max(t.height);
        paint(t, cov, g.color, z, (g.spec, 60.0, 0.0));
    }
}

/// Eye-local coordinates: `a` along the eye (-1..1 corner to corner, positive outwards),
/// `b` across it in eye heights (positive down).
#[inline]
fn eye_local(f: &Face, side: f32, u: f32, v: f32) -> (f32, f32) {
    let (du, dv) = (u - side * f.eye_u, v - f.eye_v);
    let (s, c) = (f.eye_tilt * side).sin_cos();
    // Tilt raises the outer corner.
    let along = (du * c - dv * s * side) * side;
    let across = du * s * side + dv * c;
    (along / f.eye_w, across / f.eye_h)
}

/// The open part of the eye at this instant: sclera, iris, pupil, lashes, the catchlight's
/// gloss; the closed-lid skin around it is the texture's.
#[inline]
pub(super) fn eye_overlay(f: &Face, state: &EyeState, u: f32, v: f32, t: &mut Texel) {
    if (v - f.eye_v).abs() > f.eye_h * 3.0 || (u.abs() - f.eye_u).abs() > f.eye_w * 1.3 {
        return;
    }
    let side = if u < 0.0 { -1.0 } else { 1.0 };
    let (a, b) = eye_local(f, side, u, v);
    if a.abs() >= 1.0 {
        return;
    }
    let arc = 1.0 - a * a;
    // The upper lid peaks slightly towards the nose.
    let upper_open = -arc.powf(0.8) * (1.0 - 0.15 * a);
    let lower = 0.7 * arc.powf(1.1);
    let closed = 0.3 * arc;
    let upper = closed + (upper_open - closed) * state.open.clamp(0.0, 1.0);
    let px = 0.004 / f.eye_h;
    let cov = coverage(upper - b, px) * coverage(b - lower, px);
    if cov <= 0.0 {
        return;
    }
    let (x, y) = (a * f.eye_w * side, b * f.eye_h);
    let (gx, gy) = (state.gaze.0 * 0.35 * f.eye_w, state.gaze.1 * 0.25 * f.eye_h);
    let (ix, iy) = (x - gx, y - gy);
    let d = (ix * ix + iy * iy).sqrt();
    let ri = f.iris_r;
    let angle = iy.atan2(ix);
    let fibres = value_noise(angle * 9.0, d / ri * 3.0, f.seed.wrapping_add(29));
    let iris = scale(f.iris, (0.6 + 0.8 * fibres) * (0.75 + 0.35 * (d / ri)));
    let limbus = smoothstep(0.75, 1.0, d / ri);
    let iris = scale(iris, 1.0 - 0.6 * limbus);
    let sclera_shade = 1.0 - 0.5 * a.abs().powi(2);
    let mut c = mul(
        [0.46, 0.43, 0.41],
        [1.0, 0.97 - 0.05 * a.abs(), 0.96 - 0.06 * a.abs()],
    );
    c = scale(c, sclera_shade);
    c = mix(c, iris, coverage(d - ri, 0.0025));
    c = mix(c, [0.012, 0.01, 0.01], coverage(d - ri * 0.4, 0.002));
    // The upper lid's shadow on the eyeball.
    c = scale(c, 1.0 - 0.45 * smoothstep(0.8, 0.0, b - upper));
    // Lashes along the upper lid, thicker outwards; a thin lower lash line.
    let lash_w = (0.12 + 0.12 * a.max(0.0)) * (0.003 / f.eye_h).max(0.1);
    let lash = smoothstep(lash_w * 1.6, lash_w * 0.4, b - upper);
    c = mix(c, [0.02, 0.015, 0.012], lash * 0.95);
    c = mix(
        c,
        scale(f.skin, 0.55),
        smoothstep(0.15, 0.0, lower - b) * 0.5,
    );
    // A glossy sphere: the cornea gives the catchlight.
    let (nx, ny) = (x / (f.eye_w * 1.3), y / (f.eye_w * 1.3));
    let nz = (1.0 - nx * nx - ny * ny).max(0.05).sqrt();
    t.albedo = mix(t.albedo, c, cov);
    t.normal = t.normal.lerp(normalize([nx, ny, nz]), cov);
    t.spec += (0.25 - t.spec) * cov;
    t.shininess += (400.0 - t.shininess) * cov;
    t.wrap *= 1.0 - cov;
}
