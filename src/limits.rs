//! Build-time limits and settings shared by the C API (the layout of `NX_SMTP_CLIENT`) and the
//! Zephyr glue. `build.rs` generates them (`OUT_DIR/build_config.rs`) from the module's Kconfig:
//! the `.config` of a Zephyr build (`DOTCONFIG`), else Kconfig's defaults (with a host build's
//! own few, listed in build.rs), overridden by `ZSMTP_*` environment variables. The C header
//! takes the same Kconfig values (`CONFIG_SMTP_CLIENT_*`), or falls back to the same defaults.

include!(concat!(env!("OUT_DIR"), "/build_config.rs"));

/// Whether the dialogue (commands, replies) is logged at all: only at [`LOG_LEVEL`] 4 (DBG).
/// Below it the log calls and their formatting code are not compiled (docs/PERFORMANCE.md).
/// Host builds default to 4, firmware builds to Zephyr's default, 3 (INF).
pub const LOG_DIALOGUE: bool = LOG_LEVEL >= 4;

#[cfg(test)]
mod tests {
    use super::KCONFIG_DEFAULTS;

    fn kconfig_default(symbol: &str) -> &'static str {
        KCONFIG_DEFAULTS
            .iter()
            .find(|(s, _)| *s == symbol)
            .unwrap_or_else(|| panic!("Kconfig has no default for CONFIG_{symbol}"))
            .1
    }

    /// include/nxd_smtp_client.h repeats Kconfig's defaults for C programs built without
    /// Kconfig: they must be the same numbers.
    #[test]
    fn header_fallbacks_are_kconfig_defaults() {
        let header = include_str!("../include/nxd_smtp_client.h");
        let mut seen = 0;
        let mut lines = header.lines();
        while let Some(line) = lines.next() {
            let Some(symbol) = line.strip_prefix("#if defined(CONFIG_") else { continue };
            let symbol = symbol.trim_end_matches(')');
            // #define NX_... CONFIG_..., #else, #define NX_... <fallback>
            let fallback = lines.nth(2).and_then(|l| l.split_whitespace().nth(2)).expect("the #else fallback");
            assert_eq!(fallback, kconfig_default(symbol), "nxd_smtp_client.h's fallback for CONFIG_{symbol}");
            seen += 1;
        }
        assert_eq!(seen, 13, "the header's thirteen limits");
    }
}
