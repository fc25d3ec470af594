//! `cargo bench --bench writes -- --host unix:///run/docker-perf.sock --compare unix:///tmp/s/shoal.sock`
//!
//! Service creates and removes (replicas 0) against two swarm endpoints, side by side, from a
//! compiled client: one keep-alive HTTP/1.1 connection per client on one thread. The shared
//! kit's `swarm_bench.py` measures the same workload (w1), but its four Python threads on two
//! cores reach only ~6,000 `/_ping`s per second, so they cannot show a server that is faster
//! than that. This one reports, per client count, each endpoint's rate and latencies and B/A.
//!
//! Flags: `--host A` (required), `--compare B`, `--n 2000` (services per run),
//! `--clients 1,4,16`, `--rounds 2`, `--slices 10` (A and B take turns this many times per
//! run, so both are measured in the same moments of a noisy machine; 1 = all of A, then B).
//! What it creates carries the label `swarm-bench=1` (as the kit's) and is removed by the run.
//! Run with no flags (as `cargo test --all-targets` does), it prints how to use it and exits.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;

struct Options {
    hosts: Vec<String>,
    n: usize,
    clients: Vec<usize>,
    rounds: usize,
    slices: usize,
}

fn parse_options() -> Option<Options> {
    let mut options = Options {
        hosts: Vec::new(),
        n: 2000,
        clients: vec![1, 4, 16],
        rounds: 2,
        slices: 10,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" | "--compare" => options.hosts.push(args.next()?),
            "--n" => options.n = args.next()?.parse().ok()?,
            "--rounds" => options.rounds = args.next()?.parse().ok()?,
            "--slices" => options.slices = args.next()?.parse::<usize>().ok()?.max(1),
            "--clients" => {
                options.clients = args
                    .next()?
                    .split(',')
                    .map(|c| c.parse().ok())
                    .collect::<Option<Vec<usize>>>()?
            }
            // `cargo bench` adds `--bench`.
            _ => {}
        }
    }
    (!options.hosts.is_empty()).then_some(options)
}

fn socket_path(host: &str) -> &str {
    host.strip_prefix("unix://").unwrap_or(host)
}

/// One keep-alive connection.
struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Client {
    async fn connect(host: &str) -> std::io::Result<Self> {
        let stream = UnixStream::connect(socket_path(host)).await?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
        tokio::task::spawn_local(async move {
            let _ = connection.await;
        });
        Ok(Self { sender })
    }

    /// Sends one request; answers the status and the body.
    async fn send(&mut self, method: &str, path: &str, body: Vec<u8>) -> (u16, Bytes) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("Host", "docker")
            .header("Content-Type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("request");
        let Ok(response) = self.sender.send_request(request).await else {
            return (0, Bytes::new());
        };
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        (status, body)
    }
}

fn service_spec(name: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "Name": name,
        "Labels": {"swarm-bench": "1"},
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": "bench/busybox:1",
                "Command": ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
                "Labels": {"swarm-bench": "1"}
            },
            "RestartPolicy": {"Condition": "any", "Delay": 0}
        },
        "Mode": {"Replicated": {"Replicas": 0}}
    }))
    .expect("spec")
}

struct Figure {
    ops_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    failed: usize,
}

fn figure(total: Duration, mut latencies: Vec<Duration>, failed: usize) -> Figure {
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Figure {
        ops_per_second: latencies.len() as f64 / total.as_secs_f64(),
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        failed,
    }
}

/// What one host did with one slice of the items.
#[derive(Default)]
struct Run {
    total: Duration,
    latencies: Vec<Duration>,
    results: Vec<Option<String>>,
}

impl Run {
    fn add(&mut self, other: Run) {
        self.total += other.total;
        self.latencies.extend(other.latencies);
        self.results.extend(other.results);
    }

    fn figure(self) -> Figure {
        let failed = self.results.iter().filter(|r| r.is_none()).count();
        figure(self.total, self.latencies, failed)
    }
}

/// Runs `work` for every item, spread over `clients` connections.
async fn run_spread<F, Fut>(host: &str, items: Vec<String>, clients: usize, work: F) -> Run
where
    F: Fn(Client, String) -> Fut + Copy + 'static,
    Fut: std::future::Future<Output = (Client, Option<String>)> + 'static,
{
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        connections.push(Client::connect(host).await.expect("connect"));
    }
    let mut shares: Vec<Vec<String>> = vec![Vec::new(); clients];
    for (i, item) in items.into_iter().enumerate() {
        shares[i % clients].push(item);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (mut client, share) in connections.into_iter().zip(shares) {
        tasks.push(tokio::task::spawn_local(async move {
            let mut latencies = Vec::with_capacity(share.len());
            let mut results = Vec::with_capacity(share.len());
            for item in share {
                let sent = Instant::now();
                let (back, result) = work(client, item).await;
                client = back;
                latencies.push(sent.elapsed());
                results.push(result);
            }
            (latencies, results)
        }));
    }
    let mut latencies = Vec::new();
    let mut results = Vec::new();
    for task in tasks {
        let (mut l, mut r) = task.await.expect("client task");
        latencies.append(&mut l);
        results.append(&mut r);
    }
    Run {
        total: started.elapsed(),
        latencies,
        results,
    }
}

/// Runs `work` over each host's items in `slices` turns, the hosts taking turns slice by
/// slice (and in turn going first): this machine's disk and CPU change speed from one second
/// to the next, and hosts measured in the same moments see the same machine.
async fn run_interleaved<F, Fut>(
    hosts: &[String],
    items: Vec<Vec<String>>,
    clients: usize,
    slices: usize,
    work: F,
) -> Vec<Run>
where
    F: Fn(Client, String) -> Fut + Copy + 'static,
    Fut: std::future::Future<Output = (Client, Option<String>)> + 'static,
{
    let mut runs: Vec<Run> = hosts.iter().map(|_| Run::default()).collect();
    let chunk = |list: &[String]| list.len().div_ceil(slices).max(1);
    let mut slices_of: Vec<Vec<Vec<String>>> = items
        .iter()
        .map(|list| list.chunks(chunk(list)).map(<[String]>::to_vec).collect())
        .collect();
    for slice in 0..slices {
        let mut order: Vec<usize> = (0..hosts.len()).collect();
        if slice % 2 == 1 {
            order.reverse();
        }
        for h in order {
            let Some(part) = slices_of[h].get_mut(slice).map(std::mem::take) else {
                continue;
            };
            runs[h].add(run_spread(&hosts[h], part, clients, work).await);
        }
    }
    runs
}

async fn create(mut client: Client, name: String) -> (Client, Option<String>) {
    let (status, body) = client
        .send("POST", "/v1.41/services/create", service_spec(&name))
        .await;
    let id = (status == 201)
        .then(|| serde_json::from_slice::<serde_json::Value>(&body).ok())
        .flatten()
        .and_then(|v| v["ID"].as_str().map(str::to_string));
    (client, id)
}

async fn remove(mut client: Client, id: String) -> (Client, Option<String>) {
    let (status, _) = client
        .send("DELETE", &format!("/v1.41/services/{id}"), Vec::new())
        .await;
    (client, (status == 200).then_some(id))
}

fn print_row(label: &str, figures: &[Figure]) {
    let mut line = format!("{label:<24}");
    for f in figures {
        line += &format!(
            " {:>9.0} {:>7.3} {:>7.3}",
            f.ops_per_second, f.p50_ms, f.p99_ms
        );
        if f.failed > 0 {
            line += &format!(" ({} failed)", f.failed);
        }
    }
    if let [a, b] = figures {
        line += &format!(
            "   B/A ops {:.2}  p50 {:.2}",
            b.ops_per_second / a.ops_per_second,
            b.p50_ms / a.p50_ms
        );
    }
    println!("{line}");
}

async fn bench(options: Options) {
    let tag = std::process::id();
    let mut header = format!("{:<24}", "figure");
    for (i, host) in options.hosts.iter().enumerate() {
        let name = if i == 0 { "A" } else { "B" };
        header += &format!(
            " {:>9} {:>7} {:>7}",
            format!("{name} ops/s"),
            "p50 ms",
            "p99 ms"
        );
        eprintln!("{name} = {host}");
    }
    println!("{header}");
    for round in 0..options.rounds {
        for &clients in &options.clients {
            let names: Vec<Vec<String>> = options
                .hosts
                .iter()
                .map(|_| {
                    (0..options.n)
                        .map(|i| format!("wb-{tag}-{round}-{clients}-{i}"))
                        .collect()
                })
                .collect();
            let created =
                run_interleaved(&options.hosts, names, clients, options.slices, create).await;
            let ids: Vec<Vec<String>> = created
                .iter()
                .map(|run| run.results.iter().flatten().cloned().collect())
                .collect();
            let removed =
                run_interleaved(&options.hosts, ids, clients, options.slices, remove).await;
            let creates: Vec<Figure> = created.into_iter().map(Run::figure).collect();
            let removes: Vec<Figure> = removed.into_iter().map(Run::figure).collect();
            print_row(&format!("r{round} create c={clients}"), &creates);
            print_row(&format!("r{round} remove c={clients}"), &removes);
        }
    }
}

fn main() {
    let Some(options) = parse_options() else {
        println!(
            "writes: no endpoint given; usage: cargo bench --bench writes -- --host unix:///A.sock \
             [--compare unix:///B.sock] [--n 2000] [--clients 1,4,16] [--rounds 2] [--slices 10]"
        );
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tokio::task::LocalSet::new().block_on(&runtime, bench(options));
}
