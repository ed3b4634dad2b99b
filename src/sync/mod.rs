//! The uploader's building blocks. Today: the retry policy (which outcomes are retried, how
//! long to wait). The batching loop and its HTTP client follow with the collector.

pub mod policy;
