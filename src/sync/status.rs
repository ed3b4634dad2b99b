//! How the upload stands, as the uploader publishes it: for the kiosk's sync indicator, the
//! heartbeat, and (later) the staff screen.

/// Whether the collector could be reached at the last attempt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Link {
    /// Nothing tried yet.
    #[default]
    Unknown,
    /// The collector answered.
    Online,
    /// No answer, or the collector was unavailable.
    Offline,
    /// The collector refused the credential (unknown or revoked): re-enrol the terminal.
    Unauthorized,
}

impl Link {
    /// The link as `status` shows it: `unknown`, `online`, `offline` or `unauthorized`.
    pub fn as_str(self) -> &'static str {
        match self {
            Link::Unknown => "unknown",
            Link::Online => "online",
            Link::Offline => "offline",
            Link::Unauthorized => "unauthorized",
        }
    }
}

/// The uploader's view of the queue and the link.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncStatus {
    pub link: Link,
    /// Answers waiting for upload.
    pub pending: u64,
    /// Answers the collector rejected, kept on the terminal and never sent again.
    pub dead_letters: u64,
    /// Device time of the oldest waiting answer (Unix ms).
    pub oldest_pending_ms: Option<i64>,
    /// When the collector last confirmed something (Unix ms, device clock).
    pub last_success_ms: Option<i64>,
    /// When the collector last took a heartbeat (Unix ms, device clock).
    pub last_heartbeat_ms: Option<i64>,
    /// What went wrong at the last failed attempt; cleared by a success.
    pub last_error: Option<String>,
    /// Answers the collector confirmed (accepted or duplicate) since the uploader started.
    pub uploaded: u64,
    /// Heartbeats the collector took since the uploader started.
    pub heartbeats: u64,
}

impl SyncStatus {
    /// One line for staff: "synced", "3 waiting", "offline, 3 waiting", …
    pub fn summary(&self) -> String {
        let mut text = match (self.link, self.pending) {
            (Link::Unauthorized, n) => format!("not enrolled, {n} waiting"),
            (Link::Offline, n) => format!("offline, {n} waiting"),
            (_, 0) => "synced".to_owned(),
            (_, n) => format!("{n} waiting"),
        };
        if self.dead_letters > 0 {
            text.push_str(&format!(", {} rejected", self.dead_letters));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_reads_at_a_glance() {
        let mut s = SyncStatus {
            link: Link::Online,
            ..SyncStatus::default()
        };
        assert_eq!(s.summary(), "synced");
        s.pending = 3;
        assert_eq!(s.summary(), "3 waiting");
        s.link = Link::Offline;
        s.dead_letters = 1;
        assert_eq!(s.summary(), "offline, 3 waiting, 1 rejected");
    }
}
