//! The mesh with real sockets on 127.0.0.1: echo backends that answer their own name.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use super::Mesh;
use crate::mesh::routes::{Route, RouteKey, RoutingTable};
use crate::types::endpoint::PortProtocol;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const WAIT: Duration = Duration::from_secs(5);

fn free_tcp_port() -> u16 {
    let listener = std::net::TcpListener::bind((LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

fn free_udp_port() -> u16 {
    let socket = std::net::UdpSocket::bind((LOCALHOST, 0)).unwrap();
    socket.local_addr().unwrap().port()
}

/// An address nothing listens on.
fn dead_backend() -> SocketAddr {
    let listener = std::net::TcpListener::bind((LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap()
}

fn tcp(port: u16) -> RouteKey {
    RouteKey {
        protocol: PortProtocol::Tcp,
        port,
    }
}

fn udp(port: u16) -> RouteKey {
    RouteKey {
        protocol: PortProtocol::Udp,
        port,
    }
}

fn table(routes: &[(RouteKey, &[SocketAddr])]) -> RoutingTable {
    let routes: BTreeMap<RouteKey, Route> = routes
        .iter()
        .map(|(key, backends)| {
            (
                *key,
                Route {
                    service_id: "svc".into(),
                    service_name: "web".into(),
                    backends: backends.to_vec(),
                },
            )
        })
        .collect();
    RoutingTable { routes }
}

/// A TCP backend that sends `name\n`, then echoes.
async fn tcp_backend(name: &'static str) -> SocketAddr {
    let listener = TcpListener::bind((LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                if stream
                    .write_all(format!("{name}\n").as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
                let (mut read, mut write) = stream.split();
                let _ = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
    addr
}

/// A UDP backend that answers `name:payload`.
async fn udp_backend(name: &'static str) -> SocketAddr {
    let socket = UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((len, from)) = socket.recv_from(&mut buf).await {
            let mut reply = format!("{name}:").into_bytes();
            reply.extend_from_slice(&buf[..len]);
            let _ = socket.send_to(&reply, from).await;
        }
    });
    addr
}

/// Connects through the mesh and reads the backend's name.
async fn connect(port: u16) -> (String, BufReader<TcpStream>) {
    let stream = TcpStream::connect((LOCALHOST, port)).await.unwrap();
    let mut reader = BufReader::new(stream);
    let mut name = String::new();
    tokio::time::timeout(WAIT, reader.read_line(&mut name))
        .await
        .unwrap()
        .unwrap();
    (name.trim_end().to_string(), reader)
}

async fn name_via(port: u16) -> String {
    connect(port).await.0
}

async fn udp_ask(client: &UdpSocket, port: u16, payload: &str) -> String {
    client
        .send_to(payload.as_bytes(), (LOCALHOST, port))
        .await
        .unwrap();
    let mut buf = [0u8; 2048];
    let (len, from) = tokio::time::timeout(WAIT, client.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        from,
        SocketAddr::new(LOCALHOST, port),
        "reply from the port"
    );
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// Waits until nothing accepts on `port` any more.
async fn wait_closed(port: u16) {
    for _ in 0..100 {
        if TcpStream::connect((LOCALHOST, port)).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("port {port} still open");
}

#[tokio::test]
async fn tcp_connections_spread_round_robin() {
    let a = tcp_backend("a").await;
    let b = tcp_backend("b").await;
    let c = tcp_backend("c").await;
    let port = free_tcp_port();
    let mut mesh = Mesh::new(LOCALHOST);
    assert_eq!(mesh.apply(&table(&[(tcp(port), &[a, b, c])])), 0);
    assert_eq!(mesh.bound(), vec![tcp(port)]);
    let mut names = Vec::new();
    for _ in 0..6 {
        names.push(name_via(port).await);
    }
    let mut counts = BTreeMap::new();
    for name in &names {
        *counts.entry(name.as_str()).or_insert(0) += 1;
    }
    assert_eq!(
        counts,
        BTreeMap::from([("a", 2), ("b", 2), ("c", 2)]),
        "{names:?}"
    );
    mesh.shutdown().await;
}

#[tokio::test]
async fn tcp_bytes_flow_both_ways() {
    let a = tcp_backend("a").await;
    let port = free_tcp_port();
    let mut mesh = Mesh::new(LOCALHOST);
    mesh.apply(&table(&[(tcp(port), &[a])]));
    let (name, stream) = connect(port).await;
    assert_eq!(name, "a");
    let (mut read, mut write) = stream.into_inner().into_split();
    let payload = vec![7u8; 256 * 1024];
    let sent = payload.clone();
    let writer = tokio::spawn(async move { write.write_all(&sent).await });
    let mut echoed = vec![0u8; payload.len()];
    tokio::time::timeout(WAIT, read.read_exact(&mut echoed))
        .await
        .unwrap()
        .unwrap();
    writer.await.unwrap().unwrap();
    assert_eq!(echoed, payload);
    mesh.shutdown().await;
}

#[tokio::test]
async fn a_dead_backend_is_skipped() {
    let a = tcp_backend("a").await;
    let dead = dead_backend();
    let port = free_tcp_port();
    let mut mesh = Mesh::new(LOCALHOST);
    mesh.apply(&table(&[(tcp(port), &[dead, a])]));
    for _ in 0..4 {
        assert_eq!(name_via(port).await, "a");
    }
    mesh.shutdown().await;
}

#[tokio::test]
async fn no_backend_closes_the_connection_at_once() {
    let port = free_tcp_port();
    let mut mesh = Mesh::new(LOCALHOST);
    mesh.apply(&table(&[(tcp(port), &[])]));
    let mut stream = TcpStream::connect((LOCALHOST, port)).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(WAIT, stream.read(&mut buf))
        .await
        .unwrap();
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");

    let dead = dead_backend();
    mesh.apply(&table(&[(tcp(port), &[dead])]));
    let mut stream = TcpStream::connect((LOCALHOST, port)).await.unwrap();
    let read = tokio::time::timeout(WAIT, stream.read(&mut buf))
        .await
        .unwrap();
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    mesh.shutdown().await;
}

#[tokio::test]
async fn a_new_backend_set_applies_and_open_connections_keep_going() {
    let a = tcp_backend("a").await;
    let b = tcp_backend("b").await;
    let port = free_tcp_port();
    let mut mesh = Mesh::new(LOCALHOST);
    mesh.apply(&table(&[(tcp(port), &[a])]));
    let (name, mut old) = connect(port).await;
    assert_eq!(name, "a");

    assert_eq!(mesh.apply(&table(&[(tcp(port), &[b])])), 0);
    for _ in 0..3 {
        assert_eq!(name_via(port).await, "b");
    }
    old.get_mut().write_all(b"still here\n").await.unwrap();
    let mut line = String::new();
    tokio::time::timeout(WAIT, old.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(line, "still here\n");
    mesh.shutdown().await;
}

#[tokio::test]
async fn an_unpublished_port_closes_and_others_stay() {
    let a = tcp_backend("a").await;
    let (one, two) = (free_tcp_port(), free_tcp_port());
    let mut mesh = Mesh::new(LOCALHOST);
    mesh.apply(&table(&[(tcp(one), &[a]), (tcp(two), &[a])]));
    assert_eq!(name_via(one).await, "a");
    mesh.apply(&table(&[(tcp(two), &[a])]));
    assert_eq!(mesh.bound(), vec![tcp(two)]);
    wait_closed(one).await;
    assert_eq!(name_via(two).await, "a");

    // Published again: it opens again.
    mesh.apply(&table(&[(tcp(one), &[a]), (tcp(two), &[a])]));
    assert_eq!(name_via(one).await, "a");
    mesh.shutdown().await;
}

#[tokio::test]
async fn a_port_in_use_is_retried() {
    let a = tcp_backend("a").await;
    let blocker = std::net::TcpListener::bind((LOCALHOST, 0)).unwrap();
    let port = blocker.local_addr().unwrap().port();
    let mut mesh = Mesh::new(LOCALHOST);
    let routes = table(&[(tcp(port), &[a])]);
    assert_eq!(mesh.apply(&routes), 1);
    assert!(mesh.bound().is_empty());
    assert_eq!(mesh.apply(&routes), 1);
    drop(blocker);
    assert_eq!(mesh.apply(&routes), 0);
    assert_eq!(name_via(port).await, "a");
    mesh.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_ports_and_connections() {
    let a = tcp_backend("a").await;
    let port = free_tcp_port();
    let mut mesh = Mesh::new(LOCALHOST);
    mesh.apply(&table(&[(tcp(port), &[a])]));
    let (_, mut open) = connect(port).await;
    tokio::time::timeout(WAIT, mesh.shutdown()).await.unwrap();
    wait_closed(port).await;
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(WAIT, open.read(&mut buf))
        .await
        .unwrap();
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

#[tokio::test]
async fn udp_flows_spread_and_stick() {
    let a = udp_backend("a").await;
    let b = udp_backend("b").await;
    let port = free_udp_port();
    let mut mesh = Mesh::new(LOCALHOST);
    assert_eq!(mesh.apply(&table(&[(udp(port), &[a, b])])), 0);
    let first = UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
    let second = UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
    let one = udp_ask(&first, port, "hello").await;
    let two = udp_ask(&second, port, "hello").await;
    let mut answers = vec![one.clone(), two.clone()];
    answers.sort();
    assert_eq!(answers, vec!["a:hello", "b:hello"]);
    // A client keeps its backend.
    let backend = |answer: &str| answer.split(':').next().unwrap_or_default().to_string();
    for _ in 0..3 {
        assert_eq!(
            backend(&udp_ask(&first, port, "again").await),
            backend(&one)
        );
        assert_eq!(
            backend(&udp_ask(&second, port, "again").await),
            backend(&two)
        );
    }
    mesh.shutdown().await;
}

#[tokio::test]
async fn udp_flows_move_when_their_backend_leaves() {
    let a = udp_backend("a").await;
    let b = udp_backend("b").await;
    let port = free_udp_port();
    let mut mesh = Mesh::new(LOCALHOST);
    mesh.apply(&table(&[(udp(port), &[a])]));
    let client = UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
    assert_eq!(udp_ask(&client, port, "x").await, "a:x");
    // A backend joining leaves the flow where it is.
    mesh.apply(&table(&[(udp(port), &[a, b])]));
    assert_eq!(udp_ask(&client, port, "y").await, "a:y");
    // Its backend leaving moves it.
    mesh.apply(&table(&[(udp(port), &[b])]));
    assert_eq!(udp_ask(&client, port, "z").await, "b:z");
    mesh.shutdown().await;
}

#[tokio::test]
async fn tcp_and_udp_share_a_port_number() {
    let a = tcp_backend("a").await;
    let u = udp_backend("u").await;
    let port = free_tcp_port();
    let mut mesh = Mesh::new(LOCALHOST);
    // The UDP port may be taken by someone else on this machine; the TCP one must work.
    mesh.apply(&table(&[(tcp(port), &[a]), (udp(port), &[u])]));
    assert_eq!(name_via(port).await, "a");
    if mesh.bound().contains(&udp(port)) {
        let client = UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
        assert_eq!(udp_ask(&client, port, "q").await, "u:q");
    }
    mesh.shutdown().await;
}

#[tokio::test]
async fn an_idle_udp_flow_ends() {
    let a = udp_backend("a").await;
    let b = udp_backend("b").await;
    let port = free_udp_port();
    let mut mesh = Mesh::new(LOCALHOST).with_udp_idle(Duration::from_millis(100));
    mesh.apply(&table(&[(udp(port), &[a, b])]));
    let client = UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
    let first = udp_ask(&client, port, "x").await;
    assert_eq!(udp_ask(&client, port, "x").await, first, "kept while busy");
    tokio::time::sleep(Duration::from_millis(400)).await;
    // A new flow, to the next backend round-robin.
    assert_ne!(udp_ask(&client, port, "x").await, first);
    mesh.shutdown().await;
}
