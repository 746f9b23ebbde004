//! Group commit for decision records: a decision is answered only after its
//! record is committed, and every record waiting when a commit starts goes
//! into that one transaction, so one fsync serves many decisions.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{Audit, AuditEntry, Store};

/// The most records one transaction takes.
const BATCH: usize = 1024;
/// A decision waits at most this long for its record to be committed.
const COMMIT_WAIT: Duration = Duration::from_secs(3);

type Ack = oneshot::Sender<Result<(), String>>;

#[derive(Clone)]
pub struct AuditWriter {
    queue: mpsc::Sender<(AuditEntry, Ack)>,
}

impl AuditWriter {
    /// Start the writer task on the current tokio runtime.
    pub fn start(store: Store) -> AuditWriter {
        let (queue, mut rx) = mpsc::channel::<(AuditEntry, Ack)>(8 * BATCH);
        tokio::spawn(async move {
            let mut entries = Vec::with_capacity(BATCH);
            let mut acks = Vec::with_capacity(BATCH);
            while let Some((entry, ack)) = rx.recv().await {
                entries.push(entry);
                acks.push(ack);
                while entries.len() < BATCH {
                    match rx.try_recv() {
                        Ok((entry, ack)) => {
                            entries.push(entry);
                            acks.push(ack);
                        }
                        Err(_) => break,
                    }
                }
                let result = store.append(&entries).await.map_err(|e| format!("{e:#}"));
                if let Err(e) = &result {
                    tracing::error!(error = %e, records = entries.len(), "cannot commit audit records");
                }
                for ack in acks.drain(..) {
                    let _ = ack.send(result.clone());
                }
                entries.clear();
            }
        });
        AuditWriter { queue }
    }

    /// Commit one record; returns once it is on disk, or fails within a few
    /// seconds (never hangs) when the store cannot take it.
    pub async fn record(&self, entry: AuditEntry) -> anyhow::Result<()> {
        let (ack, done) = oneshot::channel();
        let stopped = || anyhow::anyhow!("the audit writer has stopped");
        let wait = async {
            self.queue.send((entry, ack)).await.map_err(|_| stopped())?;
            done.await.map_err(|_| stopped())?.map_err(anyhow::Error::msg)
        };
        tokio::time::timeout(COMMIT_WAIT, wait)
            .await
            .map_err(|_| anyhow::anyhow!("the audit record was not committed within {COMMIT_WAIT:?}"))?
    }
}
