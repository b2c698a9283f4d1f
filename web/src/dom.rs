//! Small helpers over web-sys: elements by id, attributes, text, timers, frames.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, Element, HtmlElement, Window};

pub fn window() -> Window {
    web_sys::window().expect("the page runs in a window")
}

pub fn document() -> Document {
    window().document().expect("the window has a document")
}

/// The element with `id`, as `T`.
///
/// # Panics
/// When the markup lacks it (a mismatch between `www/index.html` and this crate).
pub fn by_id<T: JsCast>(id: &str) -> T {
    document()
        .get_element_by_id(id)
        .unwrap_or_else(|| panic!("www/index.html has no element #{id}"))
        .dyn_into::<T>()
        .unwrap_or_else(|_| panic!("#{id} is not the expected kind of element"))
}

pub fn set_attr(element: &Element, name: &str, value: &str) {
    // Only fails for invalid attribute names, which are constants here.
    let _ = element.set_attribute(name, value);
}

pub fn set_text(element: &Element, text: &str) {
    if element.text_content().as_deref() != Some(text) {
        element.set_text_content(Some(text));
    }
}

pub fn set_hidden(element: &HtmlElement, hidden: bool) {
    if element.hidden() != hidden {
        element.set_hidden(hidden);
    }
}

/// Sets a CSS property through the CSSOM (allowed by the page's strict style policy).
pub fn set_style(element: &HtmlElement, property: &str, value: &str) {
    let _ = element.style().set_property(property, value);
}

/// Milliseconds since the page started loading (`performance.now()`).
pub fn now() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// Resolves at the next animation frame (paused while the tab is hidden).
pub async fn next_frame() {
    let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
        let _ = window().request_animation_frame(&resolve);
    });
    let _ = JsFuture::from(promise).await;
}

/// Resolves after `ms` milliseconds (lets the browser paint between long steps).
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// `object[key]` as a string, when it is one.
pub fn get_string(object: &JsValue, key: &str) -> Option<String> {
    Reflect::get(object, &JsValue::from_str(key))
        .ok()
        .and_then(|v| v.as_string())
}

/// A readable message for a rejected promise or thrown value.
pub fn js_error(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        return text;
    }
    let name = get_string(value, "name");
    let message = get_string(value, "message");
    match (name, message) {
        (Some(name), Some(message)) if !message.is_empty() => format!("{name}: {message}"),
        (Some(name), _) => name,
        (None, Some(message)) => message,
        _ => format!("{value:?}"),
    }
}

/// Keeps a closure alive for the page's lifetime and returns it as a JS function.
pub fn leak<F: ?Sized + wasm_bindgen::closure::WasmClosure>(closure: Closure<F>) -> Function {
    let function: Function = closure.as_ref().unchecked_ref::<Function>().clone();
    closure.forget();
    function
}

/// Listens to `event` on `target` for the page's lifetime.
pub fn on(
    target: &web_sys::EventTarget,
    event: &str,
    handler: impl FnMut(web_sys::Event) + 'static,
) {
    let function = leak(Closure::<dyn FnMut(web_sys::Event)>::new(handler));
    let _ = target.add_event_listener_with_callback(event, &function);
}
