//! The store on a real PostgreSQL (Debian's `postgresql`), started by the
//! test on a free loopback port, with two replicas of the service sharing it.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "support/process.rs"]
#[allow(dead_code)]
mod process;

use std::process::Command;
use std::time::Duration;

use helpers::{ADMIN, auth_config, need, skip, spawn_in_env};
use reqwest::Method;
use serde_json::json;

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL cluster in a temporary directory, stopped when dropped.
struct Postgres {
    dir: tempfile::TempDir,
    url: String,
}

impl Postgres {
    fn port(&self) -> u16 {
        self.url.rsplit(':').next().and_then(|p| p.split('/').next()).and_then(|p| p.parse().ok()).expect("port")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--", &format!("{BIN}/pg_ctl"), "-D"])
            .arg(&data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn postgres() -> Option<Postgres> {
    if !need(&format!("{BIN}/initdb"), "postgresql") || !need("runuser", "util-linux") {
        return None;
    }
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    // initdb refuses root: the cluster belongs to the postgres user.
    let chown = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status();
    if !chown.is_ok_and(|s| s.success()) {
        skip("cannot hand a directory to the postgres user (run the tests as root, as CI does)");
        return None;
    }
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--", &format!("{BIN}/initdb"), "-A", "trust", "-U", "postgres", "-D"])
        .arg(&data)
        .output()
        .expect("initdb");
    assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let options = format!("-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=on", dir.path().display());
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--", &format!("{BIN}/pg_ctl"), "-D"])
        .arg(&data)
        .args(["-w", "-l"])
        .arg(dir.path().join("log"))
        .args(["-o", &options, "start"])
        .output()
        .expect("pg_ctl");
    assert!(
        out.status.success(),
        "pg_ctl: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(Postgres { dir, url: format!("postgres://postgres@127.0.0.1:{port}/postgres") })
}

async fn replica(pg: &Postgres) -> helpers::TestApp {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("deploy-gate.toml"),
        format!("{}\n[[teams]]\nname = \"payments\"\nstatus = \"red\"\n\n[policy.environments.production]\nred = \"deny\"\n", auth_config()),
    )
    .expect("config");
    spawn_in_env(dir, &[("DEPLOY_GATE_STORE__URL", pg.url.as_str())]).await
}

#[tokio::test]
async fn two_replicas_on_one_postgres_share_overrides_windows_and_the_audit() {
    let Some(pg) = postgres() else { return };
    let (a, b) = (replica(&pg).await, replica(&pg).await);
    let ask = "/can-deploy?team=payments&environment=production";
    let (_, d) = b.get_json(ask).await;
    assert_eq!(d["allowed"], false, "a red team: {d}");

    // An override made on one replica is in force on the other.
    let o = json!({"team": "payments", "environment": "production", "reason": "Hotfix for outage INC-1"});
    let (status, created) = a.call(Method::POST, "/overrides", Some(ADMIN), Some(&o)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    b.wait_for(ask, Duration::from_secs(5), |_, d| d["allowed"] == true).await;

    // Revoked on both at once: recorded once, the other hears it had ended.
    let path = format!("/overrides/{id}");
    let (ra, rb) = tokio::join!(
        a.call(Method::DELETE, &path, Some(ADMIN), None),
        b.call(Method::DELETE, &path, Some(ADMIN), None)
    );
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{ra:?} {rb:?}");
    a.wait_for(ask, Duration::from_secs(5), |_, d| d["allowed"] == false).await;

    // The same window id created on both at once: one 201, one 409.
    let w = json!({"id": "race", "cron": "0 3 * * *", "duration": "1h"});
    let (wa, wb) = tokio::join!(
        a.call(Method::POST, "/windows", Some(ADMIN), Some(&w)),
        b.call(Method::POST, "/windows", Some(ADMIN), Some(&w))
    );
    let mut statuses = [wa.0, wb.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{wa:?} {wb:?}");

    // One audit log: both replicas' decisions and the one revocation.
    let (_, audit) = b.call(Method::GET, "/audit?kind=override.revoked", Some(ADMIN), None).await;
    assert_eq!(audit["records"].as_array().expect("records").len(), 1, "{audit}");
    let (_, decisions) = a.call(Method::GET, "/audit?kind=decision&limit=1000", Some(ADMIN), None).await;
    assert!(decisions["records"].as_array().expect("records").len() >= 3, "{decisions}");
    let (status, ready) = a.get_json("/readyz").await;
    assert_eq!((status, ready["store"]["ok"].as_bool()), (200, Some(true)));
}

#[tokio::test]
async fn health_checks_on_postgres_are_one_a_day_and_seen_by_every_replica() {
    let Some(pg) = postgres() else { return };
    let (a, b) = (replica(&pg).await, replica(&pg).await);
    let session = json!({"team": "payments", "date": "2026-10-01", "votes": {"fun": {"green": 3, "red": 1}}});
    // The same session sent to both at once: one kept, one 409.
    let (ra, rb) = tokio::join!(
        a.call(Method::POST, "/health-checks", Some(ADMIN), Some(&session)),
        b.call(Method::POST, "/health-checks", Some(ADMIN), Some(&session))
    );
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{ra:?} {rb:?}");
    // Read from the database, not a cache: the other replica shows it at once.
    for app in [&a, &b] {
        let (status, list) = app.get_json("/health-checks?team=payments").await;
        assert_eq!(status, 200);
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        assert_eq!(list[0]["topics"][0]["colour"], "green");
    }
    let (_, audit) = b.call(Method::GET, "/audit?kind=health_check", Some(ADMIN), None).await;
    assert_eq!(audit["records"].as_array().expect("records").len(), 1, "recorded once: {audit}");
}

/// The cap on overrides in force holds across replicas: creators on two
/// stores (two replicas' connection pools) racing for the last places get
/// exactly as many as are left.
#[tokio::test]
async fn the_override_cap_holds_when_replicas_race_for_the_last_places() {
    use deploy_gate::policy::{Name, Override};
    use deploy_gate::store::{Created, Overrides, Store};
    let Some(pg) = postgres() else { return };
    let (a, b) = tokio::join!(Store::open(&pg.url), Store::open(&pg.url));
    let (a, b) = (a.expect("store a"), b.expect("store b"));
    let now = chrono::Utc::now();
    let o = |i: usize| Override {
        id: format!("race-{i}"),
        team: Name::parse("team", "payments").expect("team"),
        service: None,
        environment: Name::parse("environment", "production").expect("environment"),
        reason: format!("racing for the last places {i}"),
        ticket: None,
        created_by: "test".into(),
        created_at: now,
        expires_at: now + chrono::Duration::hours(1),
        revoked_at: None,
        revoked_by: None,
    };
    const LIMIT: i64 = 5;
    let mut racing = tokio::task::JoinSet::new();
    for i in 0..24 {
        let (store, o) = (if i % 2 == 0 { a.clone() } else { b.clone() }, o(i));
        racing.spawn(async move { store.create_override(&o, LIMIT, None).await.expect("create") });
    }
    let results = racing.join_all().await;
    let created = results.iter().filter(|r| matches!(r, Created::Now)).count();
    let refused = results.iter().filter(|r| matches!(r, Created::TooMany)).count();
    assert_eq!((created, refused), (LIMIT as usize, 24 - LIMIT as usize), "{results:?}");
}

/// Read-then-write changes take turns across replicas: of two racing
/// deletes one finds the window; two racing first settings of a team are
/// one creation and one update, in that order in the audit log.
#[tokio::test]
async fn racing_replicas_delete_once_and_replace_in_turn() {
    let Some(pg) = postgres() else { return };
    let (a, b) = (replica(&pg).await, replica(&pg).await);
    for round in 0..5 {
        let w = json!({"id": format!("doomed-{round}"), "cron": "0 3 * * *", "duration": "1h"});
        let (status, _) = a.call(Method::POST, "/windows", Some(ADMIN), Some(&w)).await;
        assert_eq!(status, 201);
        let path = format!("/windows/doomed-{round}");
        b.wait_for(&path, Duration::from_secs(5), |s, _| s == 200).await;
        let (da, db) = tokio::join!(
            a.call(Method::DELETE, &path, Some(ADMIN), None),
            b.call(Method::DELETE, &path, Some(ADMIN), None)
        );
        let mut statuses = [da.0, db.0];
        statuses.sort();
        assert_eq!(statuses, [200, 404], "round {round}: {da:?} {db:?}");

        let team = json!({"status": "green"});
        let path = format!("/teams/racing-{round}");
        let (pa, pb) = tokio::join!(
            a.call(Method::PUT, &path, Some(ADMIN), Some(&team)),
            b.call(Method::PUT, &path, Some(ADMIN), Some(&team))
        );
        let mut statuses = [pa.0, pb.0];
        statuses.sort();
        assert_eq!(statuses, [200, 201], "round {round}: {pa:?} {pb:?}");
    }
    let (_, deleted) = a.call(Method::GET, "/audit?kind=window.deleted", Some(ADMIN), None).await;
    assert_eq!(deleted["records"].as_array().map(Vec::len), Some(5), "each deleted once: {deleted}");
    let (_, created) = a.call(Method::GET, "/audit?kind=team.created", Some(ADMIN), None).await;
    assert_eq!(created["records"].as_array().map(Vec::len), Some(5), "{created}");

    // Two reports of one deployment on two replicas at once: one creates it,
    // the other merges into it.
    for round in 0..5 {
        let id = format!("race-{round}");
        let start =
            json!({"id": id, "team": "payments", "environment": "production", "status": "started", "version": "1.2.3"});
        let done =
            json!({"id": id, "team": "payments", "environment": "production", "status": "started", "commit": "abc123"});
        let (ra, rb) = tokio::join!(
            a.call(Method::POST, "/deployments", Some(ADMIN), Some(&start)),
            b.call(Method::POST, "/deployments", Some(ADMIN), Some(&done))
        );
        let mut statuses = [ra.0, rb.0];
        statuses.sort();
        assert_eq!(statuses, [200, 201], "round {round}: {ra:?} {rb:?}");
        let (_, list) = a.get_json("/deployments?team=payments").await;
        let d = list.as_array().expect("list").iter().find(|d| d["id"] == id.as_str()).expect("deployment").clone();
        assert_eq!((d["version"].as_str(), d["commit"].as_str()), (Some("1.2.3"), Some("abc123")), "both kept: {d}");
    }
}

#[tokio::test]
async fn the_audit_log_on_postgres_is_append_only() {
    let Some(pg) = postgres() else { return };
    let store = deploy_gate::store::Store::open(&pg.url).await.expect("open");
    // Opening again (another replica starting) migrates nothing twice.
    let _again = deploy_gate::store::Store::open(&pg.url).await.expect("open again");
    let app = replica(&pg).await;
    app.get_json("/can-deploy?team=payments&environment=production").await;
    let (_, audit) = app.call(Method::GET, "/audit?kind=decision", Some(ADMIN), None).await;
    assert_eq!(audit["records"].as_array().expect("records").len(), 1);
    drop(store);
    use sqlx::Connection;
    let mut conn = sqlx::postgres::PgConnection::connect(&pg.url).await.expect("connect");
    for sql in ["UPDATE audit SET kind = 'forged'", "DELETE FROM audit", "TRUNCATE audit"] {
        let e = sqlx::query(sql).execute(&mut conn).await.expect_err(sql);
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
}

#[tokio::test]
async fn an_expiry_is_recorded_once_however_many_replicas_look() {
    use deploy_gate::policy::{Name, Override};
    use deploy_gate::store::{Audit, AuditFilter, Overrides, Store};
    let Some(pg) = postgres() else { return };
    let stores = [Store::open(&pg.url).await.expect("open"), Store::open(&pg.url).await.expect("open")];
    let now = chrono::Utc::now();
    for i in 0..20 {
        let o = Override {
            id: format!("ovr-{i}"),
            team: Name::parse("team", "payments").expect("team"),
            service: None,
            environment: Name::parse("environment", "production").expect("env"),
            reason: "Hotfix for outage INC-1".into(),
            ticket: None,
            created_by: "test".into(),
            created_at: now - chrono::Duration::hours(2),
            expires_at: now - chrono::Duration::minutes(i + 1),
            revoked_at: None,
            revoked_by: None,
        };
        stores[0].create_override(&o, 1000, None).await.expect("create");
    }
    let (a, b) = tokio::join!(stores[0].record_expired(now), stores[1].record_expired(now));
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert_eq!(a.len() + b.len(), 20, "each expiry recorded by one replica: {} + {}", a.len(), b.len());
    let filter = AuditFilter { kind: Some("override.expired".into()), limit: 1000, ..AuditFilter::default() };
    assert_eq!(stores[1].audit(&filter).await.expect("audit").len(), 20);
    assert!(stores[1].record_expired(now).await.expect("again").is_empty());
}

#[tokio::test]
async fn while_the_database_is_down_decisions_answer_503_and_the_replica_recovers() {
    let Some(pg) = postgres() else { return };
    let app = replica(&pg).await;
    let ask = "/can-deploy?team=payments&environment=production";
    assert_eq!(app.get_json(ask).await.0, 200);
    let data = pg.dir.path().join("data");
    let pg_ctl = |action: &str| {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", pg.port(), pg.dir.path().display());
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--", &format!("{BIN}/pg_ctl"), "-D"])
            .arg(&data)
            .args(["-w", "-m", "fast", "-l"])
            .arg(pg.dir.path().join("log"))
            .args(["-o", &options, action])
            .output()
            .expect("pg_ctl");
        assert!(out.status.success(), "pg_ctl {action}: {}", String::from_utf8_lossy(&out.stderr));
    };
    pg_ctl("stop");
    let (status, e) = app.get_json(ask).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (503, Some("store_unavailable")),
        "never an unrecorded answer: {e}"
    );
    let (status, _) = app.get_json("/readyz").await;
    assert_eq!(status, 503);
    pg_ctl("start");
    app.wait_for("/readyz", Duration::from_secs(30), |s, _| s == 200).await;
    let (status, d) = app.get_json(ask).await;
    assert_eq!(status, 200, "{d}");
}

#[tokio::test]
async fn a_replica_killed_under_writes_loses_nothing_it_acknowledged() {
    let Some(pg) = postgres() else { return };
    let dir = process::workspace("[[teams]]\nname = \"payments\"\nstatus = \"green\"\n");
    let config = dir.path().join("config");
    let (doomed, survivor) =
        (process::Server::start_with(&config, &pg.url), process::Server::start_with(&config, &pg.url));
    let url = doomed.url();
    // Decisions and overrides through one replica, acknowledged ones noted, until it is killed.
    let writer = tokio::spawn(async move {
        let client = process::client();
        // The answer, or None once the replica is gone.
        let post = |path: &str, token: Option<&str>, body: serde_json::Value| {
            let mut r = client.post(format!("{url}{path}")).json(&body);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            async move {
                let response = r.send().await.ok()?;
                let status = response.status().as_u16();
                Some((status, response.json::<serde_json::Value>().await.ok()?))
            }
        };
        let mut decisions = Vec::new();
        let mut overrides = Vec::new();
        for i in 0.. {
            let ask = json!({"team": "payments", "environment": "production", "actor": format!("run-{i}")});
            match post("/can-deploy", None, ask).await {
                Some((200, d)) => decisions.push(d["decision_id"].as_str().unwrap_or_default().to_string()),
                _ => break,
            }
            if i % 5 == 0 {
                let o = json!({"team": "payments", "environment": format!("env-{i}"), "reason": "Hotfix for outage INC-9", "ttl": "1h"});
                match post("/overrides", Some(process::ADMIN), o).await {
                    Some((201, o)) => overrides.push(o["id"].as_str().unwrap_or_default().to_string()),
                    _ => break,
                }
            }
        }
        (decisions, overrides)
    });
    let other = survivor.url();
    // Kill it once it has acknowledged a good number of writes.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, a) =
            process::call(&other, Method::GET, "/audit?kind=decision&limit=100", Some(process::ADMIN), None).await;
        if a["records"].as_array().is_some_and(|r| r.len() >= 60) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the writes did not get going");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    doomed.kill9();
    let (decisions, overrides) = writer.await.expect("writer");
    assert!(
        decisions.len() >= 60 && !overrides.is_empty(),
        "{} decisions, {} overrides",
        decisions.len(),
        overrides.len()
    );

    let (_, audit) =
        process::call(&other, Method::GET, "/audit?kind=decision&limit=1000", Some(process::ADMIN), None).await;
    let recorded: Vec<&str> = audit["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["details"]["decision_id"].as_str())
        .collect();
    for id in &decisions {
        assert!(recorded.contains(&id.as_str()), "acknowledged decision {id} lost");
    }
    let (_, active) =
        process::call(&other, Method::GET, "/overrides?active=true&limit=1000", Some(process::ADMIN), None).await;
    let ids: Vec<&str> = active.as_array().expect("list").iter().filter_map(|o| o["id"].as_str()).collect();
    for id in &overrides {
        assert!(ids.contains(&id.as_str()), "acknowledged override {id} lost");
    }
}
