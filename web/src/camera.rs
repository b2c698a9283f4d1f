//! The camera: getUserMedia into the page's `<video>`, and what went wrong when it fails.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlVideoElement, MediaStream, MediaStreamConstraints};

use crate::dom::{get_string, js_error, window};

/// Why there is no camera picture.
#[derive(Clone, Debug, PartialEq)]
pub enum CameraError {
    /// The visitor (or the browser's settings) refused access.
    Denied,
    /// No camera is connected, or none can give a picture.
    Absent(String),
    /// The page cannot ask: no `navigator.mediaDevices` (an old browser, or an address
    /// that is neither https nor localhost).
    Unavailable,
    /// The camera exists but could not be started (in use by another program, …).
    Failed(String),
}

impl CameraError {
    /// The value of the page's `data-camera`.
    pub fn state(&self) -> &'static str {
        match self {
            Self::Denied => "denied",
            Self::Absent(_) => "absent",
            Self::Unavailable => "unavailable",
            Self::Failed(_) => "failed",
        }
    }

    /// What the visitor reads.
    pub fn message(&self) -> String {
        let files = "You can still choose an image or a video file below.";
        match self {
            Self::Denied => format!(
                "Camera access was denied. To use your camera, allow it for this page in the \
                 browser's site settings and press “Start camera”. {files}"
            ),
            Self::Absent(detail) => format!("No camera was found ({detail}). {files}"),
            Self::Unavailable => format!(
                "This browser gives this page no camera access (it needs a recent browser, and \
                 an https:// or localhost address). {files}"
            ),
            Self::Failed(detail) => format!("The camera could not be started ({detail}). {files}"),
        }
    }
}

/// Asks for the front camera (640 x 480 preferred) and plays it in `video`.
pub async fn start(video: &HtmlVideoElement) -> Result<MediaStream, CameraError> {
    let navigator = window().navigator();
    let has_media = Reflect::get(&navigator, &JsValue::from_str("mediaDevices"))
        .map(|v| !v.is_undefined() && !v.is_null())
        .unwrap_or(false);
    if !has_media {
        return Err(CameraError::Unavailable);
    }
    let devices = navigator
        .media_devices()
        .map_err(|_| CameraError::Unavailable)?;
    let constraints = MediaStreamConstraints::new();
    let video_constraints = Object::new();
    let ideal = |value: f64| {
        let o = Object::new();
        let _ = Reflect::set(&o, &"ideal".into(), &value.into());
        o
    };
    let _ = Reflect::set(&video_constraints, &"width".into(), &ideal(640.0));
    let _ = Reflect::set(&video_constraints, &"height".into(), &ideal(480.0));
    let _ = Reflect::set(&video_constraints, &"facingMode".into(), &"user".into());
    constraints.set_video(&video_constraints);
    constraints.set_audio(&JsValue::FALSE);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| CameraError::Failed(js_error(&e)))?;
    let stream: MediaStream = match JsFuture::from(promise).await {
        Ok(stream) => stream.unchecked_into(),
        Err(e) => {
            let detail = js_error(&e);
            return Err(match get_string(&e, "name").as_deref() {
                Some("NotAllowedError") | Some("SecurityError") | Some("PermissionDeniedError") => {
                    CameraError::Denied
                }
                Some("NotFoundError")
                | Some("OverconstrainedError")
                | Some("DevicesNotFoundError") => CameraError::Absent(detail),
                _ => CameraError::Failed(detail),
            });
        }
    };
    video.set_src_object(Some(&stream));
    video.set_muted(true);
    if let Ok(play) = video.play() {
        JsFuture::from(play)
            .await
            .map_err(|e| CameraError::Failed(js_error(&e)))?;
    }
    Ok(stream)
}

/// Stops every track of `stream` (the camera light goes off).
pub fn stop(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}
