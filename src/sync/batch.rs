//! Building an upload from waiting answers (count and byte caps, gzip) and reading the
//! collector's verdict on it. Pure: no network, no disk.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::sync::transport::Payload;
use crate::wire::{AnswerResult, AnswerStatus, BatchResponse, ErrorBody, WireAnswer};

/// One upload: the answers it carries, in order, and its request body.
#[derive(Debug)]
pub struct Batch {
    pub ids: Vec<uuid::Uuid>,
    pub payload: Payload,
}

/// Bodies above this size are gzip-compressed (answers shrink to about a tenth).
pub const GZIP_ABOVE: usize = 1024;

/// Builds a batch from `answers` (oldest first): as many as fit in `max_bytes` of JSON, but
/// always at least one. `device_time` is the terminal's clock now (RFC 3339).
pub fn encode(answers: &[WireAnswer], max_bytes: usize, device_time: &str) -> Batch {
    let mut json = Vec::with_capacity(max_bytes.min(answers.len() * 512 + 64));
    json.extend_from_slice(b"{\"device_time\":");
    serde_json::to_writer(&mut json, device_time).expect("a string serialises");
    json.extend_from_slice(b",\"answers\":[");
    let mut ids = Vec::with_capacity(answers.len());
    let mut one = Vec::with_capacity(512);
    for a in answers {
        one.clear();
        serde_json::to_writer(&mut one, a).expect("an answer serialises");
        // The closing "]}" and a separating comma.
        if !ids.is_empty() && json.len() + one.len() + 3 > max_bytes {
            break;
        }
        if !ids.is_empty() {
            json.push(b',');
        }
        json.extend_from_slice(&one);
        ids.push(a.id);
    }
    json.extend_from_slice(b"]}");
    Batch {
        ids,
        payload: compress(json),
    }
}

/// Compresses a body worth compressing (fastest level: the terminal is a small computer).
pub fn compress(json: Vec<u8>) -> Payload {
    if json.len() <= GZIP_ABOVE {
        return Payload {
            bytes: json,
            gzip: false,
        };
    }
    let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 6), Compression::fast());
    gz.write_all(&json).expect("writing to memory cannot fail");
    Payload {
        bytes: gz.finish().expect("writing to memory cannot fail"),
        gzip: true,
    }
}

/// The per-answer results of a 2xx reply, for the answers of this batch only.
pub fn results(ids: &[uuid::Uuid], body: &[u8]) -> Result<Vec<AnswerResult>, String> {
    let reply: BatchResponse = serde_json::from_slice(body)
        .map_err(|e| format!("the collector's reply cannot be read: {e}"))?;
    Ok(reply
        .results
        .into_iter()
        .filter(|r| ids.contains(&r.id))
        .collect())
}

/// The dead letters of a refused batch. A 422 that names the invalid answers dead-letters
/// just those (the others are sent again without them); any other refusal, every answer.
pub fn refusal(ids: &[uuid::Uuid], status: u16, body: &[u8]) -> Vec<AnswerResult> {
    let error: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let why = match &error {
        Some(e) => format!("refused by the collector (HTTP {status}): {}", e.error),
        None => format!("refused by the collector (HTTP {status})"),
    };
    let named: Vec<AnswerResult> = error
        .iter()
        .flat_map(|e| &e.invalid)
        .filter_map(|inv| {
            ids.get(inv.index).map(|&id| AnswerResult {
                id,
                status: AnswerStatus::Rejected,
                reason: Some(format!("refused by the collector: {}", inv.reason)),
            })
        })
        .collect();
    if status == 422 && !named.is_empty() {
        return named;
    }
    ids.iter()
        .map(|&id| AnswerResult {
            id,
            status: AnswerStatus::Rejected,
            reason: Some(why.clone()),
        })
        .collect()
}

/// The short message of an error reply, for the status screen.
pub fn error_message(status: u16, body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => format!("HTTP {status}: {}", e.error),
        Err(_) => format!("HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::survey::{Direction, Scale};
    use crate::wire::UploadBatch;

    fn answer(seq: i64) -> WireAnswer {
        WireAnswer {
            id: uuid::Uuid::now_v7(),
            seq,
            boot_id: "boot".into(),
            device_time: "2026-11-24T10:00:00+01:00".into(),
            device_time_ms: 1_795_338_000_000,
            clock_trusted: true,
            question_id: "q".into(),
            question_version: 1,
            language: "en".into(),
            scale: Scale::Ces7,
            direction: Direction::HigherIsEasier,
            score: 6,
            low: false,
            reason: None,
            suppressed: false,
            input: "touch".into(),
            age_ms: None,
        }
    }

    fn decode(p: &Payload) -> UploadBatch {
        let mut json = Vec::new();
        if p.gzip {
            flate2::read::GzDecoder::new(&p.bytes[..])
                .read_to_end(&mut json)
                .unwrap();
        } else {
            json = p.bytes.clone();
        }
        serde_json::from_slice(&json).unwrap()
    }

    #[test]
    fn a_batch_is_valid_protocol_json_within_the_byte_cap() {
        let answers: Vec<_> = (1..=50).map(answer).collect();
        let all = encode(&answers, 1 << 20, "2026-11-24T10:00:01+01:00");
        assert_eq!(all.ids.len(), 50);
        assert!(all.payload.gzip, "a big body is compressed");
        assert_eq!(decode(&all.payload).answers, answers);

        let one_size = serde_json::to_vec(&answers[0]).unwrap().len();
        let capped = encode(&answers, one_size * 10 + 100, "t");
        assert!((9..=10).contains(&capped.ids.len()), "{}", capped.ids.len());
        assert_eq!(decode(&capped.payload).answers, answers[..capped.ids.len()]);

        let tiny = encode(&answers, 10, "t");
        assert_eq!(
            tiny.ids.len(),
            1,
            "at least one answer goes, whatever the cap"
        );
    }

    #[test]
    fn a_422_naming_answers_dead_letters_only_those() {
        let ids = [
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
        ];
        let body = br#"{"error":"1 of 3 answers is invalid","invalid":[{"index":1,"reason":"score 9 is outside the ces7 scale"}]}"#;
        let dead = refusal(&ids, 422, body);
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].id, ids[1]);
        assert!(dead[0].reason.as_deref().unwrap().contains("score 9"));

        let all = refusal(&ids, 400, br#"{"error":"malformed JSON"}"#);
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|r| r.status == AnswerStatus::Rejected));
        assert!(all[0].reason.as_deref().unwrap().contains("malformed JSON"));
        assert_eq!(refusal(&ids, 422, b"<html>").len(), 3);
    }

    #[test]
    fn results_keep_only_this_batch() {
        let ids = [uuid::Uuid::now_v7()];
        let other = uuid::Uuid::now_v7();
        let body = format!(
            r#"{{"server_time":"2026-11-24T09:00:00Z","results":[
                {{"id":"{}","status":"accepted"}},{{"id":"{other}","status":"accepted"}}]}}"#,
            ids[0]
        );
        let r = results(&ids, body.as_bytes()).unwrap();
        assert_eq!(r.len(), 1);
        assert!(results(&ids, b"{}").is_err());
    }
}
