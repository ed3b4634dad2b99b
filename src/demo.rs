//! The built-in demo: a complete config for trying the terminal without writing one.

use std::path::Path;

use crate::config::{Config, ConfigError};

/// The demo config, also shipped as `deploy/examples/demo.toml`.
pub const DEMO_TOML: &str = include_str!("../deploy/examples/demo.toml");

/// The demo config with its database inside `data_dir`.
pub fn config(data_dir: &Path) -> Result<Config, ConfigError> {
    Config::parse(DEMO_TOML, Path::new("<built-in demo config>"), data_dir)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_config_is_valid() {
        let c = super::config(std::path::Path::new("demo-data")).expect("demo config validates");
        assert_eq!(c.storage.path, std::path::Path::new("demo-data/answers.db"));
        assert!(
            !c.survey.follow_up.is_empty(),
            "the demo shows the follow-up question"
        );
    }
}
