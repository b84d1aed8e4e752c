//! [`Json`]: any serde value handed to JavaScript as plain objects and arrays.
//!
//! The value is serialized to JSON text with serde_json (the CLI's serializer, so keys keep the
//! order of the Rust structs) and turned into objects by V8's own `JSON.parse`. That keeps
//! `JSON.stringify(value, null, 2)` byte-identical to the CLI's output, makes every integer a JS
//! number (napi's serde serializer refuses, or turns into BigInt, integers above 2^32, such as
//! the byte count of a large promotion), and is faster than building objects field by field
//! through N-API calls.

use napi::bindgen_prelude::{Function, JsObjectValue, Object, ToNapiValue, TypeName, Unknown};
use napi::{Env, JsValue, Status, ValueType, sys};
use serde::Serialize;

/// A serde value returned to JavaScript.
pub struct Json<T>(pub T);

impl<T: Serialize> ToNapiValue for Json<T> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let text = serde_json::to_string(&val.0).map_err(|e| {
            napi::Error::new(Status::GenericFailure, format!("cannot encode the result: {e}"))
        })?;
        let env = Env::from_raw(env);
        let json: Object = env.get_global()?.get_named_property("JSON")?;
        let parse: Function<String, Unknown> = json.get_named_property("parse")?;
        Ok(parse.apply(json, text)?.raw())
    }
}

impl<T> TypeName for Json<T> {
    fn type_name() -> &'static str {
        "Object"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}
