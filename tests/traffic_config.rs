//! `[traffic]` in config files: every mistake named with its field.

use deploy_gate::config::load_texts;

#[test]
fn validate_names_every_traffic_mistake() {
    let text = r#"
[traffic]
refresh = "soon"
weeks = 40

[[traffic.sources]]
id = "prom"
kind = "prometheus"
requests = "up"

[[traffic.sources]]
id = "prom"
kind = "csv"
path = "t.csv"

[[traffic.sources]]
id = "nr"
kind = "newrelic"
account_id = -1
requests = "SELECT count(*) FROM Transaction"

[[traffic.sources]]
id = "what"
kind = "graphite"
timezone = "Europe/Berln"
services = ["web one"]
"#;
    let found: Vec<String> = match load_texts(&[("traffic.toml", text)], &[]) {
        Ok(_) => panic!("refused"),
        Err(p) => p.iter().map(ToString::to_string).collect(),
    };
    let has = |needle: &str| found.iter().any(|p| p.contains(needle));
    for needle in [
        "traffic.toml: traffic.refresh:",
        "traffic.toml: traffic.weeks: must be a whole number of weeks from 1 to 12",
        "traffic.toml: traffic.sources[prom].url: is required for a prometheus source",
        "traffic.toml: traffic.sources[prom].id: is already used by another source",
        "traffic.toml: traffic.sources[nr].account_id: must be the account's number",
        "traffic.toml: traffic.sources[nr].api_key_env: is required for a newrelic source",
        "traffic.toml: traffic.sources[what].kind: `graphite` is not a source kind; use prometheus, newrelic or csv",
        "traffic.toml: traffic.sources[what].timezone:",
        "traffic.toml: traffic.sources[what].services: `web one` is not a name pattern",
    ] {
        assert!(has(needle), "missing `{needle}` in:\n{}", found.join("\n"));
    }
}

#[test]
fn a_csv_path_is_relative_to_its_config_file() {
    let config = load_texts(
        &[(
            "/etc/deploy-gate/traffic.toml",
            "[[traffic.sources]]\nid = \"s\"\nkind = \"csv\"\npath = \"traffic/a.csv\"\n",
        )],
        &[],
    )
    .expect("valid");
    match &config.traffic.sources[0].kind {
        deploy_gate::traffic::Kind::Csv { path } => {
            assert_eq!(path, std::path::Path::new("/etc/deploy-gate/traffic/a.csv"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(config.traffic.refresh, std::time::Duration::from_secs(900), "15m by default");
}
