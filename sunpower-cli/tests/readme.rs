//! The README's `console` examples, run against the built binary from the repository's root: each
//! `$ sunpower ARGS` line is run, and the lines shown after it must be the first lines of its
//! output. A shown JSON object matches when each of its keys has the same value in the output
//! line (the README may leave keys out); any other line must be equal; `...` ends the
//! comparison (more output follows).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// One example: the arguments and the lines shown for its output.
struct Example {
    args: Vec<String>,
    shown: Vec<String>,
}

fn examples(readme: &str) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    let mut in_console = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_console = line == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            let mut words = command.split_whitespace().map(str::to_owned);
            assert_eq!(words.next().as_deref(), Some("sunpower"), "README: {line}");
            examples.push(Example {
                args: words.collect(),
                shown: Vec::new(),
            });
        } else {
            examples
                .last_mut()
                .expect("README: output before a command")
                .shown
                .push(line.into());
        }
    }
    examples
}

/// Whether `actual` is `shown` or, for JSON objects, has every key of `shown` with its value.
fn matches(shown: &Value, actual: &Value) -> bool {
    match (shown, actual) {
        (Value::Object(s), Value::Object(a)) => s
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av))),
        _ => shown == actual,
    }
}

#[test]
fn readme_console_examples_print_what_they_show() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(crate_dir.join("README.md")).unwrap();
    let examples = examples(&readme);
    assert_eq!(examples.len(), 4, "README examples found");
    for example in &examples {
        let output = Command::new(env!("CARGO_BIN_EXE_sunpower"))
            .args(&example.args)
            .current_dir(crate_dir.join(".."))
            .output()
            .unwrap();
        let what = format!("sunpower {}", example.args.join(" "));
        assert!(
            output.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        let mut actual = stdout.lines();
        for shown in example.shown.iter().take_while(|s| *s != "...") {
            let line = actual
                .next()
                .unwrap_or_else(|| panic!("{what}: output ends before {shown}"));
            let ok = match (
                serde_json::from_str::<Value>(shown),
                serde_json::from_str(line),
            ) {
                (Ok(s), Ok(a)) => matches(&s, &a),
                _ => shown == line,
            };
            assert!(ok, "{what}:\n  README: {shown}\n  output: {line}");
        }
    }
}
