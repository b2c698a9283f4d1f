use super::*;

#[test]
fn heads_cover_the_face_box_and_differ() {
    let a = FaceModel::procedural(&Face::random(&mut Rng::new(1)));
    let b = FaceModel::procedural(&Face::random(&mut Rng::new(2)));
    // The face box centre is covered skin; the crop corners far out are not person.
    assert!(a.tex.sample(0.0, 0.0).alpha > 0.99);
    assert!(a.tex.sample(-1.05, -1.1).alpha < 0.01);
    let (la, lb) = (mean_face_luma(&a), mean_face_luma(&b));
    assert!(la > 0.01 && lb > 0.01);
    assert!((la - lb).abs() > 1e-4, "identities must differ");
}

#[test]
fn shading_follows_the_light() {
    let face = Face::random(&mut Rng::new(3));
    let model = FaceModel::procedural(&face);
    let eyes = EyeState {
        open: 1.0,
        gaze: (0.0, 0.0),
    };
    let view = model.view(&Pose {
        yaw: 0.0,
        pitch: 0.0,
        roll: 0.0,
        focal: 6.0,
    });
    let light = |x: f32| Light {
        dir: normalize([x, 0.0, 0.5]),
        key: [1.0; 3],
        ambient: [0.1; 3],
    };
    // The cheek on the lit side is brighter than the other.
    let left = model.shade(&view, &eyes, &light(-1.0), (-0.28, 0.05)).0;
    let right = model.shade(&view, &eyes, &light(-1.0), (0.28, 0.05)).0;
    assert!(luma(left) > luma(right) * 1.2, "{left:?} {right:?}");
}

#[test]
fn blinking_closes_the_eye() {
    let face = Face::random(&mut Rng::new(4));
    let model = FaceModel::procedural(&face);
    let view = model.view(&Pose {
        yaw: 0.0,
        pitch: 0.0,
        roll: 0.0,
        focal: 6.0,
    });
    let light = Light {
        dir: [0.0, 0.0, 1.0],
        key: [1.0; 3],
        ambient: [0.2; 3],
    };
    // Sample the pupil position with the eye open and closed.
    let (u, v) = (face.eye_u, face.eye_v);
    let mut open_sum = 0.0;
    let mut closed_sum = 0.0;
    for k in 0..5 {
        let p = (u + (k as f32 - 2.0) * 0.004, v);
        let (uu, vv) = model.unproject(&view, p);
        assert!((uu - p.0).abs() < 0.05 && (vv - p.1).abs() < 0.05);
        open_sum += luma(
            model
                .shade(
                    &view,
                    &EyeState {
                        open: 1.0,
                        gaze: (0.0, 0.0),
                    },
                    &light,
                    p,
                )
                .0,
        );
        closed_sum += luma(
            model
                .shade(
                    &view,
                    &EyeState {
                        open: 0.0,
                        gaze: (0.0, 0.0),
                    },
                    &light,
                    p,
                )
                .0,
        );
    }
    // An open eye shows the dark pupil and iris; a closed one skin (or a lash line).
    assert!(
        (open_sum - closed_sum).abs() > 0.02,
        "{open_sum} {closed_sum}"
    );
}
