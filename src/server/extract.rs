//! Request extractors that reject into [`ApiError`]: a malformed query string,
//! path segment or unreadable body is answered like every other error (an
//! `ErrorBody` naming the field), by the extractor, not by each handler.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// `Query<T>`, rejecting with [`ApiError::from_query`].
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(q) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(ApiError::from_query)?;
        Ok(ApiQuery(q))
    }
}

/// `Path<T>`, rejecting with [`ApiError::from_path`].
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(p) = Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(ApiError::from_path)?;
        Ok(ApiPath(p))
    }
}

/// The raw body (within the route's size limit), rejecting with
/// [`ApiError::from_bytes_rejection`]; handlers parse it themselves so JSON
/// errors name the offending field.
pub struct ApiBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(ApiBody)
            .map_err(ApiError::from_bytes_rejection)
    }
}
