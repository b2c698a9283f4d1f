//! Fetching model and image files from the page's own origin, with progress.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Response, Url};

use crate::dom::{js_error, window};

/// Resolves `path` against the page's address and refuses other origins: the page
/// requests nothing outside its own origin (its CSP would block it anyway; this says why).
pub fn same_origin_url(path: &str) -> Result<String, String> {
    let location = window().location();
    let base = location.href().map_err(|e| js_error(&e))?;
    let url =
        Url::new_with_base(path, &base).map_err(|_| format!("{path}: not a valid address"))?;
    let origin = location.origin().map_err(|e| js_error(&e))?;
    if url.origin() != origin {
        return Err(format!(
            "{path}: the page loads files from its own site only ({origin}); nothing is fetched from {}",
            url.origin()
        ));
    }
    Ok(url.href())
}

/// The bytes at `path` (same origin), calling `progress(received, total)` as they arrive.
/// Errors name the file: not found, HTTP status, network failure.
pub async fn fetch_bytes(
    path: &str,
    mut progress: impl FnMut(usize, Option<usize>),
) -> Result<Vec<u8>, String> {
    let url = same_origin_url(path)?;
    let response = JsFuture::from(window().fetch_with_str(&url))
        .await
        .map_err(|e| format!("{path}: cannot be fetched ({})", js_error(&e)))?;
    let response: Response = response
        .dyn_into()
        .map_err(|_| format!("{path}: the fetch gave no response"))?;
    if !response.ok() {
        let status = response.status();
        return Err(if status == 404 {
            format!("{path} was not found on the server (HTTP 404)")
        } else {
            format!(
                "{path}: the server answered HTTP {status} {}",
                response.status_text()
            )
        });
    }
    // Development servers (trunk serve) answer a missing file with the page itself.
    let content_type = response.headers().get("content-type").ok().flatten();
    if content_type.is_some_and(|t| t.starts_with("text/html")) && !path.ends_with(".html") {
        return Err(format!(
            "{path} was not found on the server (it answered with a web page)"
        ));
    }
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    let Some(body) = response.body() else {
        let buffer = JsFuture::from(response.array_buffer().map_err(|e| js_error(&e))?)
            .await
            .map_err(|e| format!("{path}: {}", js_error(&e)))?;
        let bytes = Uint8Array::new(&buffer).to_vec();
        progress(bytes.len(), Some(bytes.len()));
        return Ok(bytes);
    };
    let reader: ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("{path}: cannot read the response"))?;
    let mut bytes = Vec::with_capacity(total.unwrap_or(0));
    progress(0, total);
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("{path}: the download failed ({})", js_error(&e)))?;
        let done = Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        if let Ok(value) = Reflect::get(&chunk, &JsValue::from_str("value")) {
            let array: Uint8Array = value.unchecked_into();
            let start = bytes.len();
            bytes.resize(start + array.length() as usize, 0);
            array.copy_to(&mut bytes[start..]);
            progress(bytes.len(), total);
        }
    }
    Ok(bytes)
}

/// The bytes of a file the visitor chose or dropped (never leaves the page).
pub async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("{}: cannot be read ({})", file.name(), js_error(&e)))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
