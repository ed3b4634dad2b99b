//! Alert e-mail: one plain-text message per notification to every recipient, over SMTP with
//! STARTTLS (or TLS from the start), which fails rather than send the login in clear. The
//! message id is made from the delivery id, the same on every retry.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::sender::Failure;
use super::settings::{Email, EmailTls};
use crate::collector::storage::Delivery;

/// A connection set-up to the mail server and the message's sender and recipients.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl Mailer {
    pub fn new(e: &Email, timeout: Duration) -> Result<Mailer, String> {
        let parameters = || {
            let mut tls = TlsParameters::builder(e.server.clone());
            if let Some(pem) = &e.ca_pem {
                let ca = Certificate::from_pem(pem).map_err(|err| {
                    format!("alerts.email.ca_file is not a PEM certificate: {err}")
                })?;
                tls = tls.add_root_certificate(ca);
            }
            tls.build_rustls()
                .map_err(|err| format!("cannot set up TLS to {}: {err}", e.server))
        };
        let tls = match e.tls {
            EmailTls::Starttls => Tls::Required(parameters()?),
            EmailTls::Tls => Tls::Wrapper(parameters()?),
            EmailTls::None => Tls::None,
        };
        crate::sync::transport::install_crypto_provider();
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&e.server)
            .port(e.port)
            .tls(tls)
            .timeout(Some(timeout));
        if let Some((user, password)) = &e.login {
            builder = builder.credentials(Credentials::new(user.clone(), password.0.clone()));
        }
        let parse = |text: &str| {
            text.parse::<Mailbox>()
                .map_err(|err| format!("{text:?} is not an e-mail address ({err})"))
        };
        Ok(Mailer {
            transport: builder.build(),
            from: parse(&e.from)?,
            to: e.to.iter().map(|t| parse(t)).collect::<Result<_, _>>()?,
        })
    }

    /// The message of a delivery: its title as the subject, its text as the body.
    pub fn message(&self, delivery: &Delivery) -> Result<Message, String> {
        let (title, text) = super::message::stored_words(&delivery.body);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(title)
            .message_id(Some(format!("<{}@ces-collector>", delivery.id)));
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        builder
            .header(ContentType::TEXT_PLAIN)
            .body(format!(
                "{text}\n\n-- \nces-collector, delivery {} ({})\n",
                delivery.id, delivery.event
            ))
            .map_err(|e| format!("cannot make the message: {e}"))
    }

    pub async fn send(&self, delivery: &Delivery) -> Result<(), Failure> {
        let message = self.message(delivery).map_err(|error| Failure {
            error,
            retry_after_s: None,
        })?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| Failure {
                error: format!("the mail server: {e}"),
                retry_after_s: None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::alert::settings::Hidden;

    #[test]
    fn a_notification_becomes_a_plain_text_message_with_a_stable_id() {
        let email = Email {
            server: "127.0.0.1".into(),
            port: 2525,
            tls: EmailTls::Starttls,
            login: Some(("ces".into(), Hidden("pw".into()))),
            ca_pem: None,
            from: "CES alerts <alerts@example.org>".into(),
            to: vec!["cx@example.org".into(), "ops@example.org".into()],
        };
        let mailer = Mailer::new(&email, Duration::from_secs(5)).unwrap();
        let d = Delivery {
            id: "0193-d".into(),
            channel: "email".into(),
            event: "firing".into(),
            body:
                r#"{"title":"Visitors struggle at hq / desk","text":"3 of 4 answers difficult."}"#
                    .into(),
            attempts: 0,
            created_at_ms: 0,
        };
        let text = String::from_utf8(mailer.message(&d).unwrap().formatted()).unwrap();
        for part in [
            "Subject: Visitors struggle at hq / desk",
            "Message-ID: <0193-d@ces-collector>",
            "To: cx@example.org, ops@example.org",
            "From: \"CES alerts\" <alerts@example.org>",
            "3 of 4 answers difficult.",
        ] {
            assert!(text.contains(part), "{part:?} in {text}");
        }
    }
}
