# shoal: build with the Rust toolchain, run on a slim Debian with only the binary.
#
#   docker build -t shoal .
#   docker run -d --name shoal \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     -v /var/run/shoal:/var/run/shoal -v shoal-data:/var/lib/shoal \
#     --network host shoal
#   DOCKER_HOST=unix:///var/run/shoal/shoal.sock docker node ls
#
# --network host: `swarm init` advertises the host's address.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY openapi ./openapi
# Cargo.toml declares the compat-test and bench targets; their files must exist for the
# manifest to load.
COPY compat-tests ./compat-tests
COPY benches ./benches
# Stripped: the line tables Cargo.toml keeps for profiling on the host triple the image.
RUN cargo build --release --locked --bin shoal --config profile.release.strip=true

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/run/shoal /var/lib/shoal
COPY --from=build /src/target/release/shoal /usr/local/bin/shoal
VOLUME /var/lib/shoal
ENTRYPOINT ["shoal"]
CMD ["-H", "unix:///var/run/shoal/shoal.sock", "--data-root", "/var/lib/shoal", "--engine", "unix:///var/run/docker.sock"]
