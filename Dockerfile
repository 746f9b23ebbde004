# syntax=docker/dockerfile:1

# ---- build: dependencies first, so they are cached until Cargo.lock changes
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && echo 'fn main() {}' > benches/decision.rs \
 && cargo build --release --locked \
 && rm -rf src benches
COPY src ./src
COPY benches ./benches
# Touch so cargo rebuilds the crate itself, not the cached stand-ins.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && cp target/release/deploy-gate /usr/local/bin/deploy-gate

# ---- runtime: slim, non-root, config in /etc/deploy-gate, data in a volume
FROM debian:bookworm-slim
# ca-certificates: `deploy-gate check` against an https:// gate.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/deploy-gate --shell /usr/sbin/nologin deploy-gate \
 && mkdir -p /var/lib/deploy-gate /etc/deploy-gate \
 && chown deploy-gate:deploy-gate /var/lib/deploy-gate
COPY --from=build /usr/local/bin/deploy-gate /usr/local/bin/deploy-gate
COPY config/ /etc/deploy-gate/
ENV DEPLOY_GATE_SERVER__LISTEN=0.0.0.0:8080 \
    DEPLOY_GATE_STORE__URL=sqlite:///var/lib/deploy-gate/deploy-gate.db \
    DEPLOY_GATE_SERVER__LOG_FORMAT=json
VOLUME ["/var/lib/deploy-gate"]
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["deploy-gate", "health"]
ENTRYPOINT ["deploy-gate"]
CMD ["serve", "--config", "/etc/deploy-gate"]
