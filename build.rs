//! Compiles the .slint screens (with the bundled Dutch translation) when the `ui` feature is on.

fn main() {
    #[cfg(feature = "ui")]
    {
        // Debug builds (the tests) carry element debug info, which the testing backend's
        // element queries need; release builds stay lean.
        let debug_info = std::env::var("PROFILE").as_deref() == Ok("debug");
        let config = slint_build::CompilerConfiguration::new()
            .with_bundled_translations("ui/translations")
            .with_default_translation_context(slint_build::DefaultTranslationContext::None)
            .with_debug_info(debug_info);
        slint_build::compile_with_config("ui/main.slint", config).expect("ui/main.slint compiles");
    }
}
