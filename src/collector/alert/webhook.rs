//! Webhook deliveries: the body each receiver format wants (the notification's JSON as it
//! is, a Slack message, a Teams Adaptive Card), the HMAC-SHA256 signature over it, and one
//! send. Errors never carry the address: for Slack and Teams it is the secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::sender::Failure;
use super::settings::{Format, Webhook};
use crate::collector::storage::Delivery;

/// The header with the signature: `t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE: &str = "x-ces-signature";
/// The header with the delivery id, the same on every retry.
pub const DELIVERY: &str = "x-ces-delivery";
/// The header with the event: firing, repeat or resolved.
pub const EVENT: &str = "x-ces-event";

/// The body `hook` gets for a delivery.
pub fn body(format: Format, delivery: &Delivery) -> String {
    if format == Format::Plain {
        return delivery.body.clone();
    }
    let (title, text) = super::message::stored_words(&delivery.body);
    let value = match format {
        Format::Slack => serde_json::json!({
            "text": format!("*{}*\n{}", slack_escape(&title), slack_escape(&text)),
        }),
        _ => serde_json::json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": true},
                        {"type": "TextBlock", "text": text, "wrap": true},
                        {"type": "TextBlock", "text": format!("Delivery {}", delivery.id), "isSubtle": true, "size": "Small", "wrap": true},
                    ],
                },
            }],
        }),
    };
    value.to_string()
}

/// Slack's control characters in message text (`&`, `<`, `>`) as its escapes, so that
/// stored text never becomes a link or a mention.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The signature header's value for `body` sent at `unix_s`.
pub fn signature(secret: &str, unix_s: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{unix_s}.").as_bytes());
    mac.update(body.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("t={unix_s},v1={}", crate::credential::hex(&digest))
}

/// Sends a delivery once; any 2xx answer is success.
pub async fn send(
    client: &reqwest::Client,
    hook: &Webhook,
    delivery: &Delivery,
) -> Result<(), Failure> {
    let body = body(hook.format, delivery);
    let mut request = client
        .post(hook.url.0.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(DELIVERY, &delivery.id)
        .header(EVENT, &delivery.event);
    if let Some(secret) = &hook.secret {
        let now = jiff::Timestamp::now().as_second();
        request = request.header(SIGNATURE, signature(&secret.0, now, &body));
    }
    let response = request.body(body).send().await.map_err(|e| Failure {
        error: e.without_url().to_string(),
        retry_after_s: None,
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after_s = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    Err(Failure {
        error: format!("the receiver answered {status}"),
        retry_after_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery() -> Delivery {
        Delivery {
            id: "0190-d".into(),
            channel: "ops".into(),
            event: "firing".into(),
            body: r#"{"delivery":"0190-d","title":"Visitors struggle at hq / <desk>","text":"3 of 4 & more"}"#
                .into(),
            attempts: 0,
            created_at_ms: 0,
        }
    }

    #[test]
    fn each_receiver_gets_its_format() {
        let d = delivery();
        assert_eq!(body(Format::Plain, &d), d.body);
        let slack: serde_json::Value = serde_json::from_str(&body(Format::Slack, &d)).unwrap();
        assert_eq!(
            slack["text"],
            "*Visitors struggle at hq / &lt;desk&gt;*\n3 of 4 &amp; more"
        );
        let teams: serde_json::Value = serde_json::from_str(&body(Format::Teams, &d)).unwrap();
        let card = &teams["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert_eq!(
            card["content"]["body"][0]["text"],
            "Visitors struggle at hq / <desk>"
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_time_and_body() {
        // The value Python's hmac module gives for the same key and message.
        let s = signature("0123456789abcdef", 1_700_000_000, "{}");
        assert_eq!(
            s,
            "t=1700000000,v1=e4f8e2ecae2295b2ddb2f0b5584c8275e226c0ebe9b3b819e70156bb67122e3e"
        );
    }
}
