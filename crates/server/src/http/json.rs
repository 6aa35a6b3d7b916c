//! JSON request bodies that must be objects.
//!
//! serde lets a struct be read from an array too (`[null, null]` fills its fields in order), so
//! a plain `web::Json<T>` would accept bodies no schema calls valid. This extractor reads the
//! body as an object first, then as `T`.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ApiError, without_values};

/// A JSON object body read as `T`.
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The size limit, content type check and error answers are `web::Json`'s own.
        let object = web::Json::<Map<String, Value>>::from_request(req, payload);
        Box::pin(async move {
            let object = object.await?.into_inner();
            serde_json::from_value(Value::Object(object))
                .map(Json)
                .map_err(|e| {
                    ApiError::InvalidBody(format!(
                        "the body is not valid JSON for this request: {}",
                        without_values(&e.to_string())
                    ))
                    .into()
                })
        })
    }
}
