//! The binary itself: `validate` and a `serve` that refuses a bad config.

use std::process::Command;

fn deploy_gate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_deploy-gate"));
    // Settings from the caller's environment must not leak into the tests.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DEPLOY_GATE_")) {
        c.env_remove(k);
    }
    c
}

#[test]
fn the_sample_config_is_valid() {
    let out = deploy_gate().args(["validate", "--config", "config"]).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));
}

const BROKEN_WINDOWS: &str = r#"
[[windows]]
id = "tz-typo"
timezone = "Europe/Berln"
cron = "0 17 * * FRI"
duration = "63h"

[[windows]]
id = "bad-cron"
cron = "0 17 * * FRX"
duration = "1h"

[[windows]]
id = "never"
cron = "0 0 30 FEB *"
duration = "1h"

[[windows]]
id = "no-schedule"
reason = "forgot the schedule"

[[windows]]
id = "two-forms"
cron = "0 1 * * *"
duration = "1h"
start = "2026-12-21T00:00:00"
end = "2026-12-22T00:00:00"

[[windows]]
id = "bad-duration"
cron = "0 1 * * *"
duration = "an hour"

[[windows]]
id = "backwards"
start = "2026-12-22T00:00:00"
end = "2026-12-21T00:00:00"

[[windows]]
id = "typo"
cron = "0 1 * * *"
durration = "1h"

[[windows]]
id = "Bad_Id"
cron = "0 1 * * *"
duration = "1h"

[[windows]]
id = "dup"
cron = "0 1 * * *"
duration = "1h"
"#;

const BROKEN_TEAMS: &str = r#"
[[windows]]
id = "dup"
cron = "0 2 * * *"
duration = "1h"

[[teams]]
name = "payments"
status = "orange"

[[teams]]
name = "search"
status = "yellow"
"#;

fn broken_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("a-windows.toml"), BROKEN_WINDOWS).expect("write");
    std::fs::write(dir.path().join("b-teams.toml"), BROKEN_TEAMS).expect("write");
    dir
}

/// (file, field, words the message must hold)
const EXPECTED: &[(&str, &str, &str)] = &[
    ("a-windows.toml", "windows[tz-typo].timezone", "unknown time zone `Europe/Berln`; did you mean Europe/Berlin"),
    ("a-windows.toml", "windows[bad-cron].cron", "day-of-week: `FRX`"),
    ("a-windows.toml", "windows[never].cron", "never fires"),
    ("a-windows.toml", "windows[no-schedule]", "has no schedule"),
    ("a-windows.toml", "windows[two-forms].cron", "two schedule forms"),
    ("a-windows.toml", "windows[bad-duration].duration", "is not a duration"),
    ("a-windows.toml", "windows[backwards].end", "is not after start"),
    ("a-windows.toml", "windows[typo].durration", "unknown field; did you mean `duration`?"),
    ("a-windows.toml", "windows[Bad_Id].id", "is not a window id"),
    ("b-teams.toml", "windows[dup].id", "is already used by a window in"),
    ("b-teams.toml", "teams[payments].status", "`orange` is not a status"),
    ("b-teams.toml", "teams[search].plan", "is required for a yellow team"),
    ("b-teams.toml", "teams[search].plan_due", "is required for a yellow team"),
];

fn assert_every_problem_named(output: &str, dir: &std::path::Path) {
    for (file, field, words) in EXPECTED {
        let prefix = format!("{}: {field}: ", dir.join(file).display());
        assert!(
            output.lines().any(|l| l.starts_with(&prefix) && l.contains(words)),
            "no line `{prefix}...{words}` in:\n{output}"
        );
    }
    // One line per problem, and no knock-on line after the typo: `durration`
    // does not also bring "needs duration or end_cron".
    assert_eq!(output.lines().count(), EXPECTED.len(), "one line per problem:\n{output}");
}

#[test]
fn validate_names_every_problem_with_file_window_and_field_and_exits_1() {
    let dir = broken_dir();
    let out = deploy_gate().args(["validate", "--config"]).arg(dir.path()).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_every_problem_named(&String::from_utf8_lossy(&out.stdout), dir.path());
}

#[test]
fn serve_refuses_an_invalid_config_with_the_same_lines() {
    let dir = broken_dir();
    let out =
        deploy_gate().args(["serve", "--listen", "127.0.0.1:0", "--config"]).arg(dir.path()).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let problems: String =
        stderr.lines().filter(|l| !l.starts_with("deploy-gate:")).map(|l| format!("{l}\n")).collect();
    assert_every_problem_named(&problems, dir.path());
}

#[test]
fn settings_tables_stand_in_one_file_only_and_unknown_tables_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("a.toml"), "[server]\nlisten = \"127.0.0.1:9000\"\n").expect("write");
    std::fs::write(dir.path().join("b.toml"), "[server]\nlisten = \"127.0.0.1:9001\"\n[[window]]\nid = \"x\"\n")
        .expect("write");
    let out = deploy_gate().args(["validate", "--config"]).arg(dir.path()).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("b.toml: server: [server] is also in"), "{stdout}");
    assert!(stdout.contains("b.toml: window: unknown table; did you mean `windows`?"), "{stdout}");
}

#[test]
fn environment_variables_override_settings_and_bad_ones_are_reported() {
    let out = deploy_gate()
        .args(["validate", "--config", "config"])
        .env("DEPLOY_GATE_SERVER__LISTEN", "not-an-address")
        .env("DEPLOY_GATE_SERVER__LISTN", "127.0.0.1:1")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("server.listen: `not-an-address` is not ADDRESS:PORT"), "{stdout}");
    assert!(stdout.contains("DEPLOY_GATE_SERVER__LISTN"), "{stdout}");
}

#[test]
fn a_toml_syntax_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("bad.toml"), "[[windows]]\nid = \"x\ncron = 1\n").expect("write");
    let out = deploy_gate().args(["validate", "--config"]).arg(dir.path()).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("bad.toml: ") && stdout.contains("line 2"), "{stdout}");
}

#[test]
fn team_names_are_unique_across_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("a.toml"), "[[teams]]\nname = \"payments\"\nstatus = \"green\"\n").expect("write");
    std::fs::write(dir.path().join("b.toml"), "[[teams]]\nname = \"payments\"\nstatus = \"red\"\n").expect("write");
    let out = deploy_gate().args(["validate", "--config"]).arg(dir.path()).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("b.toml: teams[payments].name: is already used by a team in"), "{stdout}");
}

/// A problem carries the line of the key to blame, and a TOML syntax error
/// its line and column, each on one readable line.
#[test]
fn problems_name_their_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("a.toml"),
        "[[windows]]\nid = \"ok\"\ncron = \"0 1 * * *\"\nduration = \"1h\"\n\n[[windows]]\nid = \"x\"\n\ncron = \"0 17 * * FRX\"\nduration = \"1h\"\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("b.toml"), "[[teams]]\nname = \"payments\"\nstatus = green\n").expect("write");
    let out = deploy_gate().args(["validate", "--config"]).arg(dir.path()).output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l.contains("a.toml: windows[x].cron: ") && l.ends_with("(line 9)")), "{stdout}");
    assert!(stdout.lines().any(|l| l.contains("b.toml: line 3, column 10: ")), "{stdout}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
}

/// Counts read as English: "1 window", not "1 windows".
#[test]
fn validate_counts_in_english() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("a.toml"), "[[windows]]\nid = \"only\"\ncron = \"0 1 * * *\"\nduration = \"1h\"\n")
        .expect("write");
    let out = deploy_gate().args(["validate", "--config"]).arg(dir.path()).output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("valid (1 window, 0 teams, 1 file)"), "{stdout}");
}
