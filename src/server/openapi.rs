//! `GET /api/v1/openapi.json`: the API contract, generated from the code.
//!
//! Every schema is derived from the wire type itself (`#[derive(ToSchema)]`
//! on [`crate::protocol`] and on the domain types that go on the wire, with
//! the bounds of [`crate::domain::schema`]), and every operation comes from
//! the `#[utoipa::path]` on its handler, registered through utoipa-axum's
//! `OpenApiRouter` in [`super::routes::api_router`]: the router and the
//! document are built as one value, so a route cannot be served undocumented.
//! What every operation shares is added here once ([`finish`]): the server
//! time header on every answer, and the 401/429/500 of every operation that
//! takes the bearer token.
//!
//! Written by hand are only the two senders' request formats (Alertmanager's
//! webhook, PagerDuty's Events v2; [`senders`]): the adapters parse them
//! leniently so that one answer names every problem, and their published
//! schemas state what the adapters accept.
//!
//! Schema-valid input may still be refused with 422 or 409 by the policy,
//! which is data (an unknown severity id, a role the policy does not have, a
//! resolve before the stability window): no static schema can say that.
//! CI runs schemathesis against the real binary (`tests/it/schemathesis.rs`).

mod senders;

use crate::protocol::{ErrorBody, ErrorCode, Heartbeat, Resync, SERVER_TIME_HEADER};
use std::sync::LazyLock;
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{
    AdditionalProperties, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Header, Ref, RefOr, Response};

/// The parts of the document no handler owns: its title, the default
/// security, and the schemas the live stream sends (not a JSON response).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "warroom",
        description = "Incident war room: commands in, events out (catch-up pages and a live SSE stream). Every response carries the server's time in `x-warroom-server-time`."
    ),
    security(("bearer" = [])),
    components(schemas(ErrorBody, ErrorCode, Heartbeat, Resync, ApiDoc))
)]
pub struct ApiDoc;

/// The shape of this document, for its own operation's response.
impl utoipa::PartialSchema for ApiDoc {
    fn schema() -> RefOr<Schema> {
        let string = || ObjectBuilder::new().schema_type(Type::String);
        let object = |of: ObjectBuilder| of.schema_type(Type::Object);
        object(ObjectBuilder::new())
            .description(Some("an OpenAPI 3.1 document"))
            .property("openapi", string().pattern(Some("^3\\.1\\.")))
            .required("openapi")
            .property(
                "info",
                object(ObjectBuilder::new())
                    .property("title", string())
                    .property("version", string())
                    .required("title")
                    .required("version"),
            )
            .required("info")
            .property(
                "paths",
                object(ObjectBuilder::new()).additional_properties(Some(
                    object(ObjectBuilder::new()).description(Some("a path item")),
                )),
            )
            .required("paths")
            .into()
    }
}

impl utoipa::ToSchema for ApiDoc {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("OpenApiDocument")
    }
}

/// The document as served, built once.
pub fn document() -> &'static serde_json::Value {
    static DOC: LazyLock<serde_json::Value> = LazyLock::new(|| {
        serde_json::to_value(build()).unwrap_or_else(|e| {
            // utoipa's types always serialize; keep the endpoint answering.
            tracing::error!("the OpenAPI document does not serialize: {e}");
            serde_json::Value::Null
        })
    });
    &DOC
}

/// The router's document with what every operation shares.
pub fn build() -> utoipa::openapi::OpenApi {
    let (_, mut api) = super::routes::api_router().split_for_parts();
    finish(&mut api);
    api
}

fn error_content() -> Content {
    Content::new(Some(Ref::from_schema_name("ErrorBody")))
}

fn error_response(description: &str) -> Response {
    let mut r = Response::new(description);
    r.content
        .insert("application/json".into(), error_content().into());
    r
}

fn header(schema: ObjectBuilder, description: &str) -> Header {
    let mut h = Header::new(schema.build());
    h.description = Some(description.into());
    h
}

/// The answers every operation behind the bearer token can give, besides its own.
fn auth_errors() -> [(&'static str, Response); 3] {
    let mut limited = error_response("over the per-token rate; retry after `Retry-After` seconds");
    limited.headers.insert(
        "Retry-After".into(),
        header(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
            "seconds",
        )
        .into(),
    );
    [
        (
            "401",
            error_response("missing, unknown or revoked bearer token"),
        ),
        ("429", limited),
        (
            "500",
            error_response("internal error (logged); code `internal`"),
        ),
    ]
}

fn operations(api: &mut utoipa::openapi::OpenApi) -> impl Iterator<Item = &mut Operation> {
    api.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .filter_map(Option::as_mut)
    })
}

/// serde's `deny_unknown_fields` on an internally tagged enum refuses
/// unknown keys in every variant that has fields (a unit variant ignores
/// them), but utoipa closes only structs: close the variants here so the
/// document says what the server does (the tests hold the two together).
fn close_variants(action: &mut utoipa::openapi::schema::OneOf) {
    for variant in &mut action.items {
        if let RefOr::T(Schema::Object(o)) = variant
            && o.properties.len() > 1
        {
            o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

/// Adds what every operation shares, and the security scheme.
fn finish(api: &mut utoipa::openapi::OpenApi) {
    let server_time = header(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        "the server's time, RFC 3339 with milliseconds",
    );
    for op in operations(api) {
        // `security` unset: the document's default, the bearer token.
        if op.security.is_none() {
            for (status, response) in auth_errors() {
                op.responses
                    .responses
                    .entry(status.into())
                    .or_insert(response.into());
            }
        }
        for response in op.responses.responses.values_mut() {
            if let RefOr::T(response) = response {
                response
                    .headers
                    .insert(SERVER_TIME_HEADER.into(), server_time.clone().into());
            }
        }
    }
    let components = api.components.get_or_insert_with(Default::default);
    if let Some(RefOr::T(Schema::OneOf(action))) = components.schemas.get_mut("Action") {
        close_variants(action);
    }
    let mut bearer = Http::new(HttpAuthScheme::Bearer);
    bearer.description = Some(
        "a token from `warroom token create` or `POST /api/v1/tokens`; for \
         `POST /api/v1/ingest/alertmanager`, an integration token. Events v2 \
         senders cannot set headers: their token is the body's `routing_key`."
            .into(),
    );
    components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
