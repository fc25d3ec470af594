//! The userspace routing mesh: one listener per published port, each connection (TCP) or
//! client flow (UDP) proxied to one running task.
//!
//! [`Mesh::apply`] takes a [`RoutingTable`] and makes the listeners agree with it: it opens
//! listeners for new ports, swaps the backend list of kept ports (connections already proxied
//! keep going) and closes the ports no longer published (with their connections). A port that
//! cannot be bound (in use) is logged and retried on the next `apply`.
//!
//! - TCP: accept, pick backends round-robin, connect with a short timeout (a backend that fails
//!   is tried last for a while), then copy both ways with `TCP_NODELAY`. No backend: close.
//! - UDP: one flow per client address, an ephemeral socket connected to one backend; replies
//!   go back from the published port. A flow ends after [`UDP_IDLE`] without traffic, when its
//!   backend leaves the route, or on an error.
//!
//! Depends on `mesh::routes` and tokio only.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::routes::{Route, RouteKey, RoutingTable};
use crate::types::endpoint::PortProtocol;

/// How long a connection to one backend may take before the next one is tried.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a backend that failed is tried only after the others.
const BACKOFF: Duration = Duration::from_secs(5);
/// A UDP flow without traffic either way for this long ends.
pub const UDP_IDLE: Duration = Duration::from_secs(60);
/// UDP flows per published port; datagrams from further clients are dropped.
const MAX_UDP_FLOWS: usize = 4096;
/// The largest UDP payload.
const DATAGRAM: usize = 65_535;
/// Pause after a failed `accept` (out of file descriptors, say) or receive before the next.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// How long [`Mesh::shutdown`] waits for listeners and connections to end.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The listeners of this node's published ports.
pub struct Mesh {
    bind_ip: IpAddr,
    udp_idle: Duration,
    listeners: HashMap<RouteKey, Listener>,
    tracker: TaskTracker,
    cancel: CancellationToken,
}

struct Listener {
    pool: Arc<Pool>,
    /// Set while bound; cancelling it closes the port and its connections.
    open: Option<CancellationToken>,
    bind_failures: u32,
}

impl Mesh {
    /// A mesh listening on `bind_ip` (`0.0.0.0` on a node; `127.0.0.1` in tests).
    pub fn new(bind_ip: IpAddr) -> Self {
        Mesh {
            bind_ip,
            udp_idle: UDP_IDLE,
            listeners: HashMap::new(),
            tracker: TaskTracker::new(),
            cancel: CancellationToken::new(),
        }
    }

    /// Ends UDP flows after `idle` without traffic instead of [`UDP_IDLE`].
    pub fn with_udp_idle(mut self, idle: Duration) -> Self {
        self.udp_idle = idle;
        self
    }

    /// Makes the listeners agree with `table`; returns how many ports could not be bound (to
    /// be retried by the next call). Must run inside a tokio runtime.
    pub fn apply(&mut self, table: &RoutingTable) -> usize {
        self.listeners.retain(|key, listener| {
            let keep = table.routes.contains_key(key);
            if !keep {
                if let Some(open) = &listener.open {
                    open.cancel();
                    tracing::info!(port = %key, "mesh port closed");
                }
            }
            keep
        });
        let mut unbound = 0;
        let ports = Ports {
            bind_ip: self.bind_ip,
            tracker: &self.tracker,
            cancel: &self.cancel,
        };
        for (key, route) in &table.routes {
            let listener = self.listeners.entry(*key).or_insert_with(|| Listener {
                pool: Arc::new(Pool::new(*key, self.udp_idle)),
                open: None,
                bind_failures: 0,
            });
            listener.pool.set(route);
            if listener.open.is_none() {
                match ports.open(*key, &listener.pool) {
                    Ok(token) => {
                        tracing::info!(
                            port = %key,
                            service.id = %route.service_id,
                            service.name = %route.service_name,
                            backends = route.backends.len(),
                            "mesh port open"
                        );
                        listener.open = Some(token);
                        listener.bind_failures = 0;
                    }
                    Err(error) => {
                        if listener.bind_failures == 0 {
                            tracing::warn!(
                                port = %key,
                                service.id = %route.service_id,
                                service.name = %route.service_name,
                                %error,
                                "cannot publish port; will retry"
                            );
                        } else {
                            tracing::debug!(port = %key, %error, "still cannot publish port");
                        }
                        listener.bind_failures = listener.bind_failures.saturating_add(1);
                        unbound += 1;
                    }
                }
            }
        }
        unbound
    }

    /// The ports bound now, sorted.
    pub fn bound(&self) -> Vec<RouteKey> {
        let mut keys: Vec<RouteKey> = self
            .listeners
            .iter()
            .filter(|(_, l)| l.open.is_some())
            .map(|(k, _)| *k)
            .collect();
        keys.sort_unstable();
        keys
    }

    /// Closes every port and connection, and waits (briefly) for them to end.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("mesh connections still open after shutdown");
        }
    }
}

/// What opening a port needs of the mesh.
struct Ports<'a> {
    bind_ip: IpAddr,
    tracker: &'a TaskTracker,
    cancel: &'a CancellationToken,
}

impl Ports<'_> {
    fn open(&self, key: RouteKey, pool: &Arc<Pool>) -> io::Result<CancellationToken> {
        let addr = SocketAddr::new(self.bind_ip, key.port);
        let token = self.cancel.child_token();
        match key.protocol {
            PortProtocol::Tcp => {
                let listener = bind_tcp(addr)?;
                self.tracker.spawn(serve_tcp(
                    listener,
                    pool.clone(),
                    self.tracker.clone(),
                    token.clone(),
                ));
            }
            PortProtocol::Udp => {
                let socket = bind_udp(addr)?;
                self.tracker.spawn(serve_udp(
                    Arc::new(socket),
                    pool.clone(),
                    self.tracker.clone(),
                    token.clone(),
                ));
            }
            PortProtocol::Sctp => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "the routing mesh does not proxy sctp",
                ))
            }
        }
        Ok(token)
    }
}

impl Drop for Mesh {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn bind_tcp(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = std::net::UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket)
}

/// The backends of one published port. The list is replaced whole on change (readers clone
/// an `Arc`); a generation number lets UDP flows notice a change without taking the lock.
struct Pool {
    key: RouteKey,
    epoch: Instant,
    udp_idle: Duration,
    current: RwLock<Arc<Backends>>,
    generation: AtomicU64,
    next: AtomicUsize,
}

#[derive(Default)]
struct Backends {
    service_id: String,
    service_name: String,
    list: Vec<Backend>,
}

struct Backend {
    addr: SocketAddr,
    /// Milliseconds since the pool's epoch until which this backend is tried last.
    failed_until: AtomicU64,
}

impl Pool {
    fn new(key: RouteKey, udp_idle: Duration) -> Self {
        Pool {
            key,
            epoch: Instant::now(),
            udp_idle,
            current: RwLock::new(Arc::new(Backends::default())),
            generation: AtomicU64::new(0),
            next: AtomicUsize::new(0),
        }
    }

    fn backends(&self) -> Arc<Backends> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Takes the route's backends (keeping what is known about the ones that stay).
    fn set(&self, route: &Route) {
        let old = self.backends();
        let same = old.service_id == route.service_id
            && old.service_name == route.service_name
            && old.list.len() == route.backends.len()
            && old
                .list
                .iter()
                .zip(&route.backends)
                .all(|(b, a)| b.addr == *a);
        if same {
            return;
        }
        let list = route
            .backends
            .iter()
            .map(|addr| Backend {
                addr: *addr,
                failed_until: AtomicU64::new(
                    old.list
                        .iter()
                        .find(|b| b.addr == *addr)
                        .map_or(0, |b| b.failed_until.load(Ordering::Relaxed)),
                ),
            })
            .collect();
        tracing::debug!(
            port = %self.key,
            service.id = %route.service_id,
            backends = ?route.backends,
            "mesh backends"
        );
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(Backends {
            service_id: route.service_id.clone(),
            service_name: route.service_name.clone(),
            list,
        });
        self.generation.fetch_add(1, Ordering::Release);
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn failed(&self, backend: &Backend) {
        let until = self.now_ms().saturating_add(BACKOFF.as_millis() as u64);
        backend.failed_until.store(until, Ordering::Relaxed);
    }

    /// The backends (indexes) in the order to try them for the next connection: round-robin,
    /// the ones that failed lately last.
    fn order(&self, backends: &Backends) -> Vec<usize> {
        let n = backends.list.len();
        if n == 0 {
            return Vec::new();
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let now = self.now_ms();
        let mut order: Vec<usize> = (0..n).map(|i| (start + i) % n).collect();
        // Stable: the rotation is kept within each group.
        order.sort_by_key(|&i| backends.list[i].failed_until.load(Ordering::Relaxed) > now);
        order
    }
}

async fn serve_tcp(
    listener: TcpListener,
    pool: Arc<Pool>,
    tracker: TaskTracker,
    cancel: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((client, peer)) => {
                tracker.spawn(proxy_tcp(client, peer, pool.clone(), cancel.clone()));
            }
            Err(error) => {
                tracing::warn!(port = %pool.key, %error, "mesh accept failed");
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(ACCEPT_PAUSE) => {}
                }
            }
        }
    }
}

async fn proxy_tcp(
    mut client: TcpStream,
    peer: SocketAddr,
    pool: Arc<Pool>,
    cancel: CancellationToken,
) {
    let backends = pool.backends();
    let mut upstream = None;
    for i in pool.order(&backends) {
        let backend = &backends.list[i];
        let attempt = tokio::select! {
            _ = cancel.cancelled() => return,
            attempt = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(backend.addr)) => attempt,
        };
        match attempt {
            Ok(Ok(stream)) => {
                backend.failed_until.store(0, Ordering::Relaxed);
                upstream = Some((stream, backend.addr));
                break;
            }
            Ok(Err(error)) => {
                tracing::debug!(port = %pool.key, backend = %backend.addr, %error, "backend refused");
                pool.failed(backend);
            }
            Err(_) => {
                tracing::debug!(port = %pool.key, backend = %backend.addr, "backend timed out");
                pool.failed(backend);
            }
        }
    }
    let Some((mut upstream, backend)) = upstream else {
        tracing::debug!(
            port = %pool.key,
            service.name = %backends.service_name,
            client = %peer,
            "no backend for connection"
        );
        return;
    };
    drop(backends);
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    tokio::select! {
        _ = cancel.cancelled() => {}
        copied = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {
            if let Err(error) = copied {
                tracing::debug!(port = %pool.key, client = %peer, %backend, %error, "mesh connection ended");
            }
        }
    }
}

/// One UDP client's flow to one backend.
struct Flow {
    upstream: UdpSocket,
    backend: SocketAddr,
    /// The pool generation the backend was last checked against.
    generation: AtomicU64,
    /// Pool milliseconds of the last datagram either way.
    last_seen: AtomicU64,
    cancel: CancellationToken,
}

type Flows = Arc<Mutex<HashMap<SocketAddr, Arc<Flow>>>>;

fn lock(flows: &Flows) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Arc<Flow>>> {
    flows.lock().unwrap_or_else(|e| e.into_inner())
}

async fn serve_udp(
    socket: Arc<UdpSocket>,
    pool: Arc<Pool>,
    tracker: TaskTracker,
    cancel: CancellationToken,
) {
    let flows: Flows = Arc::new(Mutex::new(HashMap::new()));
    let mut buf = vec![0u8; DATAGRAM];
    loop {
        let received = tokio::select! {
            _ = cancel.cancelled() => return,
            received = socket.recv_from(&mut buf) => received,
        };
        let (len, client) = match received {
            Ok(received) => received,
            Err(error) => {
                tracing::debug!(port = %pool.key, %error, "mesh receive failed");
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(ACCEPT_PAUSE) => continue,
                }
            }
        };
        let Some(flow) = udp_flow(&socket, &pool, &flows, &tracker, &cancel, client) else {
            continue;
        };
        flow.last_seen.store(pool.now_ms(), Ordering::Relaxed);
        if let Err(error) = flow.upstream.send(&buf[..len]).await {
            tracing::debug!(port = %pool.key, %client, backend = %flow.backend, %error, "mesh send failed");
            end_flow(&flows, client, &flow);
        }
    }
}

/// The client's flow: the existing one while its backend is still in the route, else a new
/// one to the next backend. `None` when there is no backend (or too many flows).
fn udp_flow(
    socket: &Arc<UdpSocket>,
    pool: &Arc<Pool>,
    flows: &Flows,
    tracker: &TaskTracker,
    cancel: &CancellationToken,
    client: SocketAddr,
) -> Option<Arc<Flow>> {
    let generation = pool.generation.load(Ordering::Acquire);
    let existing = lock(flows).get(&client).cloned();
    if let Some(flow) = existing {
        if flow.generation.load(Ordering::Relaxed) == generation {
            return Some(flow);
        }
        if pool.backends().list.iter().any(|b| b.addr == flow.backend) {
            flow.generation.store(generation, Ordering::Relaxed);
            return Some(flow);
        }
        end_flow(flows, client, &flow);
    }
    if lock(flows).len() >= MAX_UDP_FLOWS {
        tracing::debug!(port = %pool.key, %client, "too many mesh flows; datagram dropped");
        return None;
    }
    let backends = pool.backends();
    let first = *pool.order(&backends).first()?;
    let backend = &backends.list[first];
    let upstream = match connect_udp(backend.addr) {
        Ok(upstream) => upstream,
        Err(error) => {
            tracing::debug!(port = %pool.key, backend = %backend.addr, %error, "cannot open mesh flow");
            pool.failed(backend);
            return None;
        }
    };
    let flow = Arc::new(Flow {
        upstream,
        backend: backend.addr,
        generation: AtomicU64::new(generation),
        last_seen: AtomicU64::new(pool.now_ms()),
        cancel: cancel.child_token(),
    });
    lock(flows).insert(client, flow.clone());
    tracker.spawn(udp_replies(
        socket.clone(),
        pool.clone(),
        flows.clone(),
        client,
        flow.clone(),
    ));
    Some(flow)
}

fn connect_udp(backend: SocketAddr) -> io::Result<UdpSocket> {
    let local = if backend.is_ipv4() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
    } else {
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)
    };
    let socket = std::net::UdpSocket::bind(local)?;
    socket.connect(backend)?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket)
}

/// Removes the client's flow if it is still `flow`, and stops its reply task.
fn end_flow(flows: &Flows, client: SocketAddr, flow: &Arc<Flow>) {
    let mut flows = lock(flows);
    if flows.get(&client).is_some_and(|f| Arc::ptr_eq(f, flow)) {
        flows.remove(&client);
    }
    flow.cancel.cancel();
}

/// Sends the backend's datagrams back to the client from the published port, until the flow
/// is idle, fails or is ended.
async fn udp_replies(
    socket: Arc<UdpSocket>,
    pool: Arc<Pool>,
    flows: Flows,
    client: SocketAddr,
    flow: Arc<Flow>,
) {
    let mut buf = vec![0u8; DATAGRAM];
    let idle_ms = u64::try_from(pool.udp_idle.as_millis()).unwrap_or(u64::MAX);
    loop {
        let last = flow.last_seen.load(Ordering::Relaxed);
        let idle_for = pool.now_ms().saturating_sub(last);
        if idle_for >= idle_ms {
            break;
        }
        let wait = Duration::from_millis(idle_ms - idle_for);
        let received = tokio::select! {
            _ = flow.cancel.cancelled() => break,
            _ = tokio::time::sleep(wait) => continue,
            received = flow.upstream.recv(&mut buf) => received,
        };
        match received {
            Ok(len) => {
                flow.last_seen.store(pool.now_ms(), Ordering::Relaxed);
                if let Err(error) = socket.send_to(&buf[..len], client).await {
                    tracing::debug!(port = %pool.key, %client, %error, "mesh reply failed");
                }
            }
            Err(error) => {
                // ICMP port unreachable comes back as a refused receive.
                tracing::debug!(port = %pool.key, backend = %flow.backend, %error, "mesh flow failed");
                if let Some(backend) = pool.backends().list.iter().find(|b| b.addr == flow.backend)
                {
                    pool.failed(backend);
                }
                break;
            }
        }
    }
    end_flow(&flows, client, &flow);
}

#[cfg(test)]
mod tests;
