//! The pages in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver with `fantoccini`; a screenshot
//! of each is saved under target/tmp/. Skipped, loudly, where there is no
//! Chromium, except under DEPLOY_GATE_TEST_STRICT=1.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use helpers::{ADMIN, auth_config, need, spawn_app};
use serde_json::json;

/// Headless Chromium under chromedriver, driven through `fantoccini`.
struct Browser {
    client: Client,
    chromedriver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

impl Browser {
    /// A browser, or `None` (said loudly) when this machine has none.
    async fn start() -> Option<Browser> {
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
        let chromium = std::env::var("CHROME_BIN").unwrap_or_else(|_| CHROMIUM.into());
        if !need(&chromedriver, "chromium-driver") || !need(&chromium, "chromium") {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1300,1800",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), json!({"binary": chromium, "args": args}));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        // chromedriver takes a moment to listen: connect until it answers.
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
                Ok(c) => break c,
                Err(e) => {
                    assert!(Instant::now() < deadline, "chromedriver did not start: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Some(Browser { client, chromedriver: child, _profile: profile })
    }

    async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("open the page");
    }

    async fn all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.expect("find")
    }

    async fn text(&self, e: &Element) -> String {
        e.text().await.expect("text")
    }

    async fn attribute(&self, e: &Element, name: &str) -> String {
        e.attr(name).await.expect("attribute").unwrap_or_default()
    }

    /// A screenshot, kept under target/ for people to look at.
    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::write(&path, png).expect("save the screenshot");
        eprintln!("screenshot: {}", path.display());
    }
}

#[tokio::test]
async fn the_dashboard_shows_teams_an_active_freeze_and_the_timeline() {
    let now = Utc::now();
    let config = format!(
        r#"{}
[policy.environments.production]
red = "deny"

[[windows]]
id = "incident-freeze"
reason = "Database failover in progress"
start = "{}"
end = "{}"
environments = ["production"]

[[windows]]
id = "nightly-batch"
timezone = "Europe/Berlin"
cron = "0 2 * * *"
duration = "2h"
environments = ["production"]

[[teams]]
name = "payments"
status = "yellow"
plan = "https://tracker.example/PAY-12"
plan_due = "2099-12-31"

[[teams]]
name = "identity"
status = "red"

[[teams]]
name = "search"
status = "green"
"#,
        auth_config(),
        (now - chrono::Duration::hours(1)).to_rfc3339(),
        (now + chrono::Duration::hours(5)).to_rfc3339(),
    );
    let app = spawn_app(&config).await;
    let body = json!({"team": "identity", "environment": "production", "reason": "Hotfix for login outage INC-99"});
    let (status, _) = app.call(reqwest::Method::POST, "/overrides", Some(ADMIN), Some(&body)).await;
    assert_eq!(status, 201);
    app.get_json("/can-deploy?team=search&environment=production").await;
    // Allowed by the override: the dashboard says so, not just ALLOWED.
    let (_, d) = app.get_json("/can-deploy?team=identity&environment=production").await;
    assert_eq!(d["allowed"], true, "{d}");
    // A config edit the gate refuses is shown, not only logged.
    let file = app.config_dir.path().join("deploy-gate.toml");
    let good = std::fs::read_to_string(&file).expect("config");
    std::fs::write(
        &file,
        format!("{good}\n[[windows]]\nid = \"broken\"\ncron = \"0 17 * * FRX\"\nduration = \"1h\"\n"),
    )
    .expect("edit");
    app.wait_for("/readyz", Duration::from_secs(10), |_, r| r["config"]["last_error"].is_array()).await;

    let Some(driver) = Browser::start().await else { return };
    driver.open(&format!("{}/", app.address)).await;

    // Every team, each with its colour's word, not colour alone.
    let mut seen = Vec::new();
    for team in driver.all("#teams li.team").await {
        let name = driver.attribute(&team, "data-team").await;
        let text = driver.text(&team).await;
        seen.push((name, text));
    }
    seen.sort();
    let want = [("identity", "RED"), ("payments", "YELLOW"), ("search", "GREEN")];
    assert_eq!(seen.len(), want.len(), "{seen:?}");
    for ((name, text), (want_name, label)) in seen.iter().zip(want) {
        assert_eq!(name, want_name);
        assert!(text.contains(label) && text.contains(want_name), "{name}: {text}");
    }

    // The active freeze, with until when.
    let frozen =
        driver.all("#frozen [data-environment=\"production\"] li.freeze[data-window=\"incident-freeze\"]").await;
    assert_eq!(frozen.len(), 1, "the active freeze is listed");
    let text = driver.text(&frozen[0]).await;
    assert!(
        text.contains("FROZEN") && text.contains("Database failover in progress") && text.contains("until"),
        "{text}"
    );

    // Both windows on the production timeline, as bars, with a marker for now.
    for id in ["incident-freeze", "nightly-batch"] {
        let bars =
            driver.all(&format!("#timeline [data-environment=\"production\"] g.lane[data-window=\"{id}\"] rect")).await;
        assert!(!bars.is_empty(), "{id} has no bar on the timeline");
    }
    // A bar's hover title: its times in the window's zone and in UTC, and whom it covers.
    let nightly = driver.all("#timeline g.lane[data-window=\"nightly-batch\"] rect title").await;
    let title = nightly[0].html(true).await.expect("title");
    let local = title.contains("CET (") || title.contains("CEST (");
    assert!(local && title.contains(" UTC)") && title.contains("environments production"), "{title}");
    // Days carry their dates.
    let days = driver.all("#timeline text.day").await;
    let label = driver.text(&days[0]).await;
    assert!(label.split_whitespace().count() == 3, "a day label with its date: {label}");
    assert!(!driver.all("#timeline svg line.now").await.is_empty(), "a marker for now");

    // The override and the decision.
    let overrides = driver.all("#overrides tr[data-override]").await;
    assert_eq!(overrides.len(), 1);
    assert!(driver.text(&overrides[0]).await.contains("Hotfix for login outage INC-99"));
    let decisions = driver.all("#decisions tbody tr").await;
    assert_eq!(decisions.len(), 2);
    assert!(driver.text(&decisions[0]).await.contains("ALLOWED BY OVERRIDE"), "the newest decision");
    assert!(!driver.text(&decisions[1]).await.contains("OVERRIDE"));
    let refused = driver.all("#refused-edit li").await;
    assert_eq!(refused.len(), 1);
    assert!(driver.text(&refused[0]).await.contains("windows[broken].cron"));

    driver.screenshot("dashboard.png").await;
}

#[tokio::test]
async fn the_dashboard_stays_readable_with_200_teams_and_500_windows() {
    let mut config = String::new();
    for i in 0..500 {
        config.push_str(&format!(
            "[[windows]]\nid = \"w{i}\"\ncron = \"{} {} * * *\"\nduration = \"{}m\"\nenvironments = [\"{}\"]\nteams = [\"team-{}\"]\n",
            i % 60,
            i % 24,
            30 + i % 90,
            ["production", "staging", "qa"][i % 3],
            i % 200
        ));
    }
    for i in 0..200 {
        config.push_str(&format!("[[teams]]\nname = \"team-{i}\"\nstatus = \"{}\"\n", ["green", "red"][i % 2]));
    }
    let app = spawn_app(&config).await;
    let r = app.get("/").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("html");
    assert!(html.len() < 300_000, "{} bytes", html.len());

    let Some(driver) = Browser::start().await else { return };
    driver.open(&format!("{}/", app.address)).await;
    // The 100 red teams get cards, first; the green ones are named under a fold.
    let cards = driver.all("#teams li.team").await;
    assert_eq!(cards.len(), 100);
    assert!(driver.text(&cards[0]).await.contains("RED"));
    let green = driver.all("#teams details.green-teams summary").await;
    assert_eq!(green.len(), 1);
    assert!(driver.text(&green[0]).await.contains("100 more green teams"));
    // Each environment shows a bounded number of lanes and says where the
    // rest are, instead of a page thousands of pixels tall.
    let visible = driver.all("#timeline .lane-group > svg g.lane").await;
    assert!(visible.len() <= 3 * 25, "{} lanes shown", visible.len());
    let more = driver.all("#timeline p.more").await;
    assert_eq!(more.len(), 3);
    assert!(driver.text(&more[0]).await.contains("more windows"));
    driver.screenshot("dashboard-large.png").await;
}

#[tokio::test]
async fn the_scorecard_shows_each_cell_in_words_sorts_by_team_and_charts_the_trend() {
    let today = Utc::now().date_naive();
    let config = format!(
        r#"{auth}
[policy.environments.production]
red = "deny"

[[scorecard.items]]
id = "rollback"
title = "Rollback in one step"
gates = ["production"]

[[scorecard.items]]
id = "monitoring"
title = "Basic monitoring"

[[teams]]
name = "checkout"

[teams.scorecard.rollback]
status = "yellow"
plan = "https://tracker.example/CHK-7"
plan_due = "{past}"

[[teams]]
name = "payments"

[teams.scorecard.rollback]
status = "yellow"
plan = "https://tracker.example/PAY-40"
plan_due = "{soon}"

[teams.scorecard.monitoring]
status = "green"

[[teams]]
name = "search"
"#,
        auth = auth_config(),
        past = today - chrono::Days::new(10),
        soon = today + chrono::Days::new(3),
    );
    let app = spawn_app(&config).await;
    let body = json!({"status": "red", "note": "no alerting yet"});
    let (status, _) =
        app.call(reqwest::Method::PUT, "/teams/search/scorecard/monitoring", Some(ADMIN), Some(&body)).await;
    assert_eq!(status, 201);

    let Some(driver) = Browser::start().await else { return };
    // Reached from the dashboard.
    driver.open(&format!("{}/", app.address)).await;
    let link = driver.client.find(Locator::Css("header a[href=\"/scorecard.html\"]")).await.expect("a link");
    link.click().await.expect("follow the link");

    let rows = driver.all("#matrix tbody tr").await;
    let mut names = Vec::new();
    for r in &rows {
        names.push(driver.attribute(r, "data-team").await);
    }
    assert_eq!(names, ["checkout", "payments", "search"], "sorted by team");

    // Each cell coloured and said in words, with plan, due date and flags.
    let cell = |team: &str, item: &str| format!("#matrix tr[data-team=\"{team}\"] td[data-item=\"{item}\"]");
    let overdue = &driver.all(&cell("checkout", "rollback")).await[0];
    let text = driver.text(overdue).await;
    assert!(text.contains("YELLOW") && text.contains("OVERDUE") && text.contains("CHK-7"), "{text}");
    assert_eq!(driver.attribute(overdue, "data-effective").await, "red");
    assert!(driver.attribute(overdue, "class").await.contains("red"));
    let soon = &driver.all(&cell("payments", "rollback")).await[0];
    let text = driver.text(soon).await;
    assert!(
        text.contains("YELLOW")
            && text.contains("DUE SOON")
            && text.contains(&(today + chrono::Days::new(3)).to_string()),
        "{text}"
    );
    let plan = driver.all(&format!("{} a", cell("payments", "rollback"))).await;
    assert_eq!(driver.attribute(&plan[0], "href").await, "https://tracker.example/PAY-40");
    assert_eq!(driver.text(&plan[0]).await, "PAY-40");
    let red = &driver.all(&cell("search", "monitoring")).await[0];
    assert!(driver.text(red).await.contains("RED"));
    assert_eq!(driver.attribute(red, "title").await, "no alerting yet");
    let never = &driver.all(&cell("search", "rollback")).await[0];
    assert!(driver.text(never).await.contains("NOT ASSESSED"));

    // Sorting by team, the other way round.
    driver.client.find(Locator::Css("#sort-team")).await.expect("sort link").click().await.expect("click");
    let mut names = Vec::new();
    for r in driver.all("#matrix tbody tr").await {
        names.push(driver.attribute(&r, "data-team").await);
    }
    assert_eq!(names, ["search", "payments", "checkout"], "sorted by team, Z to A");

    // The trend: one line per colour, a point per day, today's count last.
    let red_line = driver.all("#trend svg polyline[data-series=\"red\"]").await;
    assert_eq!(red_line.len(), 1);
    let points = driver.attribute(&red_line[0], "points").await;
    assert_eq!(points.split_whitespace().count(), 91, "90 days back and today");
    // Today: checkout's overdue rollback and search's monitoring are red.
    assert_eq!(driver.attribute(&red_line[0], "data-last").await, "2");
    assert_eq!(driver.all("#trend svg polyline").await.len(), 4);
    driver.screenshot("scorecard.png").await;
}

#[tokio::test]
async fn the_health_map_shows_each_teams_latest_session_in_words_and_arrows() {
    let config = format!(
        "{auth}\n[[teams]]\nname = \"search\"\n\n[[teams]]\nname = \"checkout\"\n\n[[teams]]\nname = \"payments\"\n\n[[teams]]\nname = \"identity\"\n",
        auth = auth_config()
    );
    let app = spawn_app(&config).await;
    let sessions = [
        json!({"team": "checkout", "date": "2026-04-10", "votes": {"easy-to-release": {"red": 4}, "fun": {"green": 4}}}),
        json!({"team": "checkout", "date": "2026-08-10", "votes": {"easy-to-release": {"yellow": 3, "red": 1}, "fun": {"green": 4}}}),
        json!({"team": "search", "date": "2026-08-12", "votes": {"easy-to-release": {"green": 5}, "fun": {"red": 3, "yellow": 2}}}),
        json!({"team": "payments", "date": "2026-08-20", "votes": {"fun": {"green": 2}}}),
    ];
    for s in &sessions {
        let (status, body) = app.call(reqwest::Method::POST, "/health-checks", Some(ADMIN), Some(s)).await;
        assert_eq!(status, 201, "{body}");
    }

    let Some(driver) = Browser::start().await else { return };
    // Reached from the dashboard.
    driver.open(&format!("{}/", app.address)).await;
    let link = driver.client.find(Locator::Css("header a[href=\"/health-map.html\"]")).await.expect("a link");
    link.click().await.expect("follow the link");

    let mut names = Vec::new();
    for r in driver.all("#map tbody tr").await {
        names.push(driver.attribute(&r, "data-team").await);
    }
    assert_eq!(names, ["checkout", "identity", "payments", "search"], "by team name, never by score");

    let cell = |team: &str, topic: &str| format!("#map tr[data-team=\"{team}\"] td[data-topic=\"{topic}\"]");
    let better = &driver.all(&cell("checkout", "easy-to-release")).await[0];
    let text = driver.text(better).await;
    assert!(text.contains("YELLOW") && text.contains('↑'), "colour in words and the trend arrow: {text}");
    assert_eq!(driver.attribute(better, "data-trend").await, "up");
    assert!(driver.attribute(better, "class").await.contains("yellow"));
    let same = &driver.all(&cell("checkout", "fun")).await[0];
    assert!(driver.text(same).await.contains("GREEN") && driver.text(same).await.contains('→'));
    let first = &driver.all(&cell("search", "fun")).await[0];
    let text = driver.text(first).await;
    assert!(text.contains("RED") && !text.contains('↑') && !text.contains('↓'), "a first session has no arrow: {text}");
    let few = driver.all("#map tr[data-team=\"payments\"] td.too-few").await;
    assert_eq!(few.len(), 1, "two voters: no colours");
    assert!(driver.text(&few[0]).await.contains("Too few votes"));
    assert!(driver.text(&driver.all("#map tr[data-team=\"identity\"]").await[0]).await.contains("No health check yet"));

    // No score, total or rank in the map or the organisation's view (the
    // page's opening words say they are never used that way).
    for section in ["#map", "#organisation"] {
        let e = driver.client.find(Locator::Css(section)).await.expect("section");
        let text = driver.text(&e).await.to_lowercase();
        for word in ["score", "rank", "total", "average", "position"] {
            assert!(!text.contains(word), "{section} says `{word}`");
        }
    }

    // Across the organisation: one chart per topic, a bar per quarter.
    let charts = driver.all("#organisation svg.quarters").await;
    assert_eq!(charts.len(), 10, "one per classic topic");
    let fun = driver.all("#organisation svg.quarters[data-topic=\"fun\"] text.counts").await;
    let mut counts = Vec::new();
    for t in &fun {
        counts.push(driver.text(t).await);
    }
    // Q2: checkout green; Q3: checkout green, search red (payments too few).
    assert_eq!(counts, ["1/0/0", "1/0/1"]);
    driver.screenshot("health-map.png").await;
}
