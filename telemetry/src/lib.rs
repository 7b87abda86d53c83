//! What the node and the relayer share to expose Prometheus metrics: the label of
//! reason-counted rejections, the text rendering of a registry and the `/metrics` answer.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Label of a rejection counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// Stable reason name.
    pub reason: String,
}

/// Increments a reason-labelled counter.
pub fn count_reason(family: &Family<ReasonLabel, Counter>, reason: &str) {
    family
        .get_or_create(&ReasonLabel {
            reason: reason.to_string(),
        })
        .inc();
}

/// The metrics could not be rendered (a scrape then gets HTTP 500 with this text, never an
/// empty page that would read as "no metrics").
#[derive(Debug, thiserror::Error)]
#[error("metrics_render_failed: the Prometheus text encoding failed: {0}")]
pub struct MetricsError(String);

impl MetricsError {
    /// The metrics could not be rendered for `reason`.
    pub fn new(reason: impl Into<String>) -> Self {
        MetricsError(reason.into())
    }
}

/// Prometheus text exposition of a registry.
pub fn render_registry(registry: &Registry) -> Result<String, MetricsError> {
    let mut out = String::new();
    encode(&mut out, registry).map_err(|e| MetricsError(e.to_string()))?;
    Ok(out)
}

/// The `/metrics` answer: the exposition, or HTTP 500 with the error's name and text.
pub fn metrics_response(
    rendered: Result<String, MetricsError>,
) -> (
    axum::http::StatusCode,
    [(axum::http::HeaderName, &'static str); 1],
    String,
) {
    let ct = (
        axum::http::header::CONTENT_TYPE,
        "text/plain; version=0.0.4",
    );
    match rendered {
        Ok(text) => (axum::http::StatusCode::OK, [ct], text),
        Err(e) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            [ct],
            e.to_string(),
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A failed render answered an empty page, which reads as "no metrics"; it is HTTP 500
    /// with the error's name.
    #[test]
    fn a_failed_render_is_an_error_page_not_an_empty_one() {
        let (status, _, body) = metrics_response(Err(MetricsError("boom".into())));
        assert_eq!(status, axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.starts_with("metrics_render_failed"), "{body}");
        let mut registry = Registry::default();
        let family = Family::<ReasonLabel, Counter>::default();
        registry.register("rejected", "Rejections", family.clone());
        count_reason(&family, "too_large");
        let (status, _, body) = metrics_response(render_registry(&registry));
        assert_eq!(status, axum::http::StatusCode::OK);
        assert!(
            body.contains("rejected_total{reason=\"too_large\"} 1"),
            "{body}"
        );
    }
}
