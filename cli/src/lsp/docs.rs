//! The documentation of a finding code shown on hover: the row of the README's code tables that
//! names it (severity and meaning), so the editor says exactly what the README says. The README
//! is embedded at build time; the core's own test checks that its tables list every code.

use std::collections::HashMap;
use std::sync::OnceLock;

use cip_core::Code;

const README: &str = include_str!("../../../README.md");

/// `(severity, meaning)` of the README table row naming `code`; the meaning ends with the row's
/// fix column (`fix: ...`) when the table has one.
pub(crate) fn of(code: Code) -> Option<&'static (String, String)> {
    static TABLE: OnceLock<HashMap<Code, (String, String)>> = OnceLock::new();
    TABLE.get_or_init(parse).get(&code)
}

/// Every row `| \`code\`, \`code\` | severity | [fix |] meaning |` of the README whose first cell
/// names codes only; the first row naming a code wins (the lint table comes before the plan table).
fn parse() -> HashMap<Code, (String, String)> {
    let mut table = HashMap::new();
    for line in README.lines() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split(" | ").map(str::trim).collect();
        let (names, severity, meaning) = match cells[..] {
            [names, severity, meaning] => (names, severity, meaning.to_owned()),
            [names, severity, "", meaning] | [names, severity, "—" | "-", meaning] => {
                (names, severity, meaning.to_owned())
            }
            [names, severity, fix, meaning] => (names, severity, format!("{meaning} (fix: {fix})")),
            _ => continue,
        };
        let codes: Vec<Code> =
            names.split(", ").filter_map(|n| n.strip_prefix('`')?.strip_suffix('`')?.parse().ok()).collect();
        if codes.is_empty() || codes.len() != names.split(", ").count() {
            continue;
        }
        for code in codes {
            table.entry(code).or_insert_with(|| (severity.to_owned(), meaning.clone()));
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_readme_row() {
        for &code in Code::ALL {
            let (severity, meaning) = of(code).unwrap_or_else(|| panic!("no README row for {code}"));
            let want = match code.severity() {
                cip_core::Severity::Error => "error",
                cip_core::Severity::Warning => "warning",
            };
            assert!(severity.starts_with(want), "{code}: {severity}");
            assert!(!meaning.is_empty(), "{code}");
        }
        let (_, meaning) = of(Code::TagUnquoted).unwrap();
        assert!(meaning.starts_with("an unquoted tag a YAML reader may turn into a number"), "{meaning}");
    }
}
