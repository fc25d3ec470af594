//! Swarm-scoped networks and how they mix with the engine's local ones under `/networks`.
//!
//! A `POST /networks/create` for the `overlay` driver (or `Scope: "swarm"`) becomes a swarm
//! network here: checked the engine's way (its router, its daemon, then swarmkit's control
//! API, in that order and with their texts), built as swarmkit's `NetworkSpec`, and proposed;
//! `apply` gives it its subnets and VXLAN IDs. Anything else belongs to the local dockerd.
//!
//! Lists, inspects and removals see both kinds of network: [`resolve`] picks one the way the
//! engine's router does (full ID, then full name, then ID prefix, local first on an exact ID),
//! [`matches_filters`] applies the `/networks` filters to swarm networks, [`to_resource`]
//! turns a swarm network into the `/networks` shape. These are pure; the `Control` methods
//! add the store, the proposer and the engine's list of its own networks.
//!
//! Depends on `store`, `types` and the engine client.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;

use super::{Control, ControlError, ControlResult};
use crate::store::ipam::{OVERLAY_DRIVER, VXLAN_ID_OPTION};
use crate::store::{ClusterState, Command, Kind, StoreError};
use crate::types::filters::{FilterError, Filters};
use crate::types::ids::new_id;
use crate::types::meta::{Driver, Timestamp, Version};
use crate::types::network::{IPAMConfig, IPAMOptions, Network, NetworkSpec};
use crate::types::network_resource::{
    NetworkConfigReference, NetworkCreateRequest, NetworkCreateResponse, NetworkIPAM,
    NetworkIPAMConfig, NetworkResource,
};

/// The scope of every swarm network.
pub const SWARM_SCOPE: &str = "swarm";

/// The network drivers swarm allocates for itself (swarmkit's built-in ones); a swarm-scoped
/// request for another driver is left to the engine, which looks the plugin up.
const SWARM_DRIVERS: [&str; 5] = ["overlay", "macvlan", "ipvlan", "bridge", "host"];

/// Names only the engine may use (`IsPreDefinedNetwork`).
const PREDEFINED_NAMES: [&str; 4] = ["bridge", "host", "none", "default"];

/// The label swarm reserves for its own predefined networks.
const PREDEFINED_LABEL: &str = "com.docker.swarm.predefined";

/// The keys `GET /networks` accepts in `filters`.
pub const LIST_FILTERS: [&str; 7] = ["dangling", "driver", "id", "label", "name", "scope", "type"];

/// Who answers a `POST /networks/create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateRoute {
    /// The swarm (the engine's `ManagerRedirectError` path).
    Swarm,
    /// The local dockerd, untouched.
    Engine,
}

/// Swarm for the overlay driver or an explicit swarm scope with a driver swarm knows;
/// config-only networks are always local.
pub fn create_route(request: &NetworkCreateRequest) -> CreateRoute {
    if request.config_only {
        return CreateRoute::Engine;
    }
    let driver = request.driver.to_ascii_lowercase();
    let swarm_scoped = driver == OVERLAY_DRIVER || request.scope == SWARM_SCOPE;
    let known = driver.is_empty() || SWARM_DRIVERS.contains(&driver.as_str());
    if swarm_scoped && known {
        CreateRoute::Swarm
    } else {
        CreateRoute::Engine
    }
}

/// What shoal needs to know of one of the engine's own networks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalNetwork {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub ingress: bool,
}

impl LocalNetwork {
    /// Reads one entry of the engine's `GET /networks` answer.
    pub fn from_json(value: &Value) -> Option<Self> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        Some(LocalNetwork {
            id: text("Id")?,
            name: text("Name").unwrap_or_default(),
            scope: text("Scope").unwrap_or_default(),
            ingress: value
                .get("Ingress")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }
}

/// The engine's `IsPreDefinedNetwork`.
pub fn is_predefined(name: &str) -> bool {
    PREDEFINED_NAMES.contains(&name)
}

fn invalid_argument(message: impl std::fmt::Display) -> ControlError {
    ControlError::Invalid(format!(
        "rpc error: code = InvalidArgument desc = {message}"
    ))
}

fn name_taken(name: &str) -> ControlError {
    ControlError::Store(StoreError::NameConflict {
        kind: Kind::Network,
        name: name.to_string(),
    })
}

/// The engine's checks on a swarm network request, in the engine's order: the name among
/// swarm networks, predefined names, the name among the engine's own networks (when
/// `CheckDuplicate` is not turned off), libnetwork's checks, then swarmkit's spec validation
/// and the single ingress network.
pub fn validate_create(
    request: &NetworkCreateRequest,
    state: &ClusterState,
    local: &[LocalNetwork],
) -> ControlResult<()> {
    let name = request.name.as_str();
    if state.by_name::<Network>(name).is_some() {
        return Err(name_taken(name));
    }
    if is_predefined(name) {
        return Err(ControlError::Forbidden(format!(
            "operation is not permitted on predefined {name} network "
        )));
    }
    if request.check_duplicate != Some(false) && local.iter().any(|n| n.name == name) {
        return Err(name_taken(name));
    }
    if name.trim().is_empty() {
        return Err(ControlError::Invalid(format!("invalid name: {name}")));
    }
    let driver = request.driver.as_str();
    if driver == OVERLAY_DRIVER && request.scope == "local" {
        return Err(ControlError::Forbidden(
            "cannot downgrade network scope for overlay networks".into(),
        ));
    }

    // swarmkit's validateNetworkSpec.
    if request.ingress && driver != OVERLAY_DRIVER {
        return Err(ControlError::NotImplemented(
            "rpc error: code = Unimplemented desc = only overlay driver is currently supported for ingress network".into(),
        ));
    }
    if request.attachable && request.ingress {
        return Err(invalid_argument("ingress network cannot be attachable"));
    }
    validate_name(name)?;
    if request.labels.contains_key(PREDEFINED_LABEL) {
        return Err(ControlError::Forbidden(format!(
            "rpc error: code = PermissionDenied desc = label {PREDEFINED_LABEL} is for internally created predefined networks and cannot be applied by users"
        )));
    }
    if driver.is_empty() {
        return Err(invalid_argument(
            "driver name: if driver is specified name is required",
        ));
    }
    if let Some(ipam) = &request.ipam {
        let ipam_driver = if ipam.driver.is_empty() {
            "default"
        } else {
            ipam.driver.as_str()
        };
        if !ipam_driver.eq_ignore_ascii_case("default") {
            return Err(invalid_argument(format!(
                "error during lookup of plugin {ipam_driver}"
            )));
        }
        for config in &ipam.config {
            validate_ipam_config(config)?;
        }
    }
    if request.ingress {
        if let Some(ingress) = state.networks.values().find(|n| n.spec.ingress) {
            return Err(ControlError::Conflict(format!(
                "rpc error: code = AlreadyExists desc = ingress network ({}) is already present",
                ingress.id
            )));
        }
    }
    Ok(())
}

/// swarmkit's `validateAnnotations`: a DNS label (`[a-zA-Z0-9]` runs joined by `-`/`_`).
fn validate_name(name: &str) -> ControlResult<()> {
    if name.is_empty() {
        return Err(invalid_argument("meta: name must be provided"));
    }
    let bytes = name.as_bytes();
    let alnum = |b: &u8| b.is_ascii_alphanumeric();
    let valid = bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes.iter().all(|b| alnum(b) || *b == b'-' || *b == b'_');
    if !valid {
        return Err(invalid_argument(
            "name must be valid as a DNS name component",
        ));
    }
    if name.len() > 63 {
        return Err(invalid_argument("name must be 63 characters or fewer"));
    }
    Ok(())
}

/// An IPv4 or IPv6 prefix as Go's `net.ParseCIDR` reads it (host bits allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = text.split_once('/')?;
        let addr: IpAddr = addr.parse().ok()?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    fn bits(addr: IpAddr) -> (u128, u8) {
        match addr {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
            IpAddr::V6(v6) => (u128::from(v6), 128),
        }
    }

    fn mask(&self) -> u128 {
        let (_, width) = Self::bits(self.addr);
        let host_bits = u32::from(width - self.prefix);
        let all = if width == 32 {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        };
        if host_bits >= 128 {
            0
        } else {
            all & !((1u128 << host_bits).wrapping_sub(1))
        }
    }

    fn contains(&self, ip: IpAddr) -> bool {
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        let (net, _) = Self::bits(self.addr);
        let (other, _) = Self::bits(ip);
        net & self.mask() == other & self.mask()
    }

    /// The first host address (network address + 1), the engine's default gateway.
    fn first_host(&self) -> IpAddr {
        let (net, _) = Self::bits(self.addr);
        let first = (net & self.mask()).wrapping_add(1);
        match self.addr {
            IpAddr::V4(_) => {
                IpAddr::V4(std::net::Ipv4Addr::from(u32::try_from(first).unwrap_or(0)))
            }
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(first)),
        }
    }
}

/// swarmkit's `validateIPAMConfiguration`.
fn validate_ipam_config(config: &NetworkIPAMConfig) -> ControlResult<()> {
    let subnet = Cidr::parse(&config.subnet).ok_or_else(|| {
        invalid_argument(format!(
            "ipam configuration: invalid subnet {}",
            config.subnet
        ))
    })?;
    if !config.ip_range.is_empty() {
        let range = Cidr::parse(&config.ip_range).ok_or_else(|| {
            invalid_argument(format!(
                "ipam configuration: invalid range {}",
                config.ip_range
            ))
        })?;
        if !subnet.contains(range.addr) {
            return Err(invalid_argument(format!(
                "ipam configuration: subnet {} does not contain range {}",
                config.subnet, config.ip_range
            )));
        }
    }
    if !config.gateway.is_empty() {
        let gateway: IpAddr = config.gateway.parse().map_err(|_| {
            invalid_argument(format!(
                "ipam configuration: invalid gateway {}",
                config.gateway
            ))
        })?;
        if !subnet.contains(gateway) {
            return Err(invalid_argument(format!(
                "ipam configuration: subnet {} does not contain gateway {}",
                config.subnet, config.gateway
            )));
        }
    }
    Ok(())
}

/// The swarm network a (validated) request asks for, as the engine converts it
/// (`BasicNetworkCreateToGRPC`), before `apply` allocates its addresses. Overlay networks get
/// their subnets and VXLAN IDs at apply; networks of node-local drivers (macvlan, ipvlan,
/// bridge, host) get only the driver's name, as swarmkit leaves them to each node.
pub fn network_from_request(request: &NetworkCreateRequest, id: String, now: Timestamp) -> Network {
    let ipam_options = request.ipam.as_ref().map(|ipam| IPAMOptions {
        driver: Driver {
            name: if ipam.driver.is_empty() {
                "default".into()
            } else {
                ipam.driver.clone()
            },
            options: ipam.options.clone().unwrap_or_default(),
        },
        configs: ipam
            .config
            .iter()
            .map(|c| IPAMConfig {
                subnet: c.subnet.clone(),
                range: c.ip_range.clone(),
                gateway: c.gateway.clone(),
            })
            .collect(),
    });
    let spec = NetworkSpec {
        name: request.name.clone(),
        labels: request.labels.clone(),
        driver_configuration: Some(Driver {
            name: request.driver.clone(),
            options: request.options.clone(),
        }),
        ipv6_enabled: request.enable_ipv6.unwrap_or(false),
        internal: request.internal,
        attachable: request.attachable,
        ingress: request.ingress,
        ipam_options: ipam_options.clone(),
        config_from: request
            .config_from
            .clone()
            .filter(|c| !c.network.is_empty()),
        scope: SWARM_SCOPE.into(),
    };
    let (driver_state, ipam_options) = if request.driver == OVERLAY_DRIVER {
        let mut options = request.options.clone();
        // Only IDs asked for in the request survive to apply; it adds the rest.
        options.retain(|k, v| k != VXLAN_ID_OPTION || !v.trim().is_empty());
        let mut ipam = ipam_options.unwrap_or_else(|| IPAMOptions {
            driver: Driver {
                name: "default".into(),
                options: BTreeMap::new(),
            },
            configs: Vec::new(),
        });
        for config in &mut ipam.configs {
            // IPv6 subnets are not carved by apply; their gateway is fixed here.
            if config.gateway.is_empty() && config.subnet.contains(':') {
                if let Some(subnet) = Cidr::parse(&config.subnet) {
                    config.gateway = subnet.first_host().to_string();
                }
            }
        }
        (
            Driver {
                name: OVERLAY_DRIVER.into(),
                options,
            },
            Some(ipam),
        )
    } else {
        (
            Driver {
                name: request.driver.clone(),
                options: BTreeMap::new(),
            },
            Some(IPAMOptions::default()),
        )
    };
    Network {
        id,
        version: Version::default(),
        created_at: now,
        updated_at: now,
        spec,
        driver_state,
        ipam_options,
    }
}

/// A swarm network in the `/networks` shape (`BasicNetworkFromGRPC`): `Containers`, and
/// `Labels`/`Options`/`IPAM.Options` when empty, are `null`.
pub fn to_resource(network: &Network) -> NetworkResource {
    let non_empty = |map: &BTreeMap<String, String>| (!map.is_empty()).then(|| map.clone());
    let ipam = match &network.ipam_options {
        Some(ipam) => NetworkIPAM {
            driver: ipam.driver.name.clone(),
            options: non_empty(&ipam.driver.options),
            config: ipam
                .configs
                .iter()
                .map(|c| NetworkIPAMConfig {
                    subnet: c.subnet.clone(),
                    ip_range: c.range.clone(),
                    gateway: c.gateway.clone(),
                    auxiliary_addresses: BTreeMap::new(),
                })
                .collect(),
        },
        None => NetworkIPAM::default(),
    };
    NetworkResource {
        name: network.spec.name.clone(),
        id: network.id.clone(),
        created: network.created_at,
        scope: SWARM_SCOPE.into(),
        driver: network.driver_state.name.clone(),
        enable_ipv4: None,
        enable_ipv6: network.spec.ipv6_enabled,
        ipam,
        internal: network.spec.internal,
        attachable: network.spec.attachable,
        ingress: network.spec.ingress,
        config_from: NetworkConfigReference {
            network: network
                .spec
                .config_from
                .as_ref()
                .map(|c| c.network.clone())
                .unwrap_or_default(),
        },
        config_only: false,
        containers: None,
        options: non_empty(&network.driver_state.options),
        labels: non_empty(&network.spec.labels),
        peers: Vec::new(),
        services: None,
        status: None,
    }
}

/// Checks `filters` of `GET /networks` as the engine does: known keys, one boolean
/// `dangling`, and `type` of `builtin` or `custom`.
pub fn validate_list_filters(filters: &Filters) -> Result<(), FilterError> {
    filters.validate(&LIST_FILTERS)?;
    let dangling = filters.get("dangling");
    if dangling.len() > 1 {
        return Err(FilterError::Json(
            "got more than one value for filter key \"dangling\"".into(),
        ));
    }
    if let Some(value) = dangling.first() {
        if !matches!(*value, "0" | "1" | "true" | "false") {
            return Err(FilterError::Json(
                "invalid value for filter 'dangling', must be \"true\" (or \"1\"), or \"false\" (or \"0\")".into(),
            ));
        }
    }
    if let Some(bad) = filters
        .get("type")
        .into_iter()
        .find(|t| !matches!(*t, "builtin" | "custom"))
    {
        return Err(FilterError::Json(format!("invalid filter: 'type'='{bad}'")));
    }
    Ok(())
}

/// Whether a swarm network passes the (validated) `/networks` filters, with the engine's
/// semantics for swarm networks: `driver` and `scope` exact, `name` and `id` as Go regular
/// expressions (substrings, in practice), `label` as `MatchKVList`; swarm networks are
/// never predefined (so always `custom`) and, as the engine tracks no attachments for them,
/// always `dangling`.
pub fn matches_filters(filters: &Filters, network: &Network) -> bool {
    filters.exact_match("driver", &network.driver_state.name)
        && go_match_any(filters, "name", &network.spec.name)
        && go_match_any(filters, "id", &network.id)
        && filters.match_kv_list("label", &network.spec.labels)
        && filters.exact_match("scope", SWARM_SCOPE)
        && filters
            .get("dangling")
            .first()
            .is_none_or(|d| matches!(*d, "1" | "true"))
        && {
            let types = filters.get("type");
            types.is_empty() || types.contains(&"custom")
        }
}

/// The engine's `Args.Match`: no values, an exact value, or a value matching as a regular
/// expression anywhere in `source`.
fn go_match_any(filters: &Filters, key: &str, source: &str) -> bool {
    let values = filters.get(key);
    values.is_empty()
        || filters.exact_match(key, source)
        || values
            .iter()
            .any(|pattern| simple_regex_match(pattern, source))
}

/// A small, unanchored regular-expression match covering what people type as network
/// filters: literals, `.`, `*` after an atom, `^` and `$`. Other metacharacters are taken
/// literally (Go would treat them as regex syntax).
fn simple_regex_match(pattern: &str, source: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let source: Vec<char> = source.chars().collect();
    if let Some(rest) = pattern.strip_prefix(&['^']) {
        return match_here(rest, &source);
    }
    (0..=source.len()).any(|start| match_here(&pattern, &source[start..]))
}

fn match_here(pattern: &[char], source: &[char]) -> bool {
    match pattern {
        [] => true,
        ['$'] => source.is_empty(),
        [atom, '*', rest @ ..] => {
            let mut i = 0;
            loop {
                if match_here(rest, &source[i..]) {
                    return true;
                }
                if i < source.len() && (*atom == '.' || source[i] == *atom) {
                    i += 1;
                } else {
                    return false;
                }
            }
        }
        [atom, rest @ ..] => {
            !source.is_empty()
                && (*atom == '.' || source[0] == *atom)
                && match_here(rest, &source[1..])
        }
    }
}

/// Merges the engine's own `GET /networks` answer (kept as JSON, so fields shoal does not
/// model pass through) after the swarm networks, skipping local entries whose ID a swarm
/// network already has, as the engine's router does.
pub fn merge_lists(swarm: Vec<NetworkResource>, local: Vec<Value>) -> ControlResult<Vec<Value>> {
    let mut merged = Vec::with_capacity(swarm.len() + local.len());
    for network in &swarm {
        merged.push(
            serde_json::to_value(network).map_err(|e| ControlError::Internal(e.to_string()))?,
        );
    }
    for value in local {
        let id = value.get("Id").and_then(Value::as_str);
        if id.is_some_and(|id| swarm.iter().any(|n| n.id == id)) {
            continue;
        }
        merged.push(value);
    }
    Ok(merged)
}

/// What a network reference resolved to.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// One of the engine's networks, by its full ID.
    Local(String),
    Swarm(Arc<Network>),
}

/// Which of the engine's two resolutions to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolveMode<'a> {
    /// `GET /networks/{id}` (`getNetwork`): a swarm network named exactly, or by a prefix of
    /// its ID, wins over name clashes; `scope` narrows both lists.
    Inspect { scope: Option<&'a str> },
    /// `DELETE /networks/{id}` (`findUniqueNetwork`): local ingress networks are never
    /// matched by name.
    Remove,
}

#[derive(Debug, Clone, PartialEq)]
enum Candidate<'a> {
    Local(&'a LocalNetwork),
    Swarm(&'a Arc<Network>),
}

impl Candidate<'_> {
    fn resolved(&self) -> Resolved {
        match self {
            Candidate::Local(n) => Resolved::Local(n.id.clone()),
            Candidate::Swarm(n) => Resolved::Swarm(Arc::clone(n)),
        }
    }
}

/// Resolves `term` among the engine's networks and the swarm's, the engine's way: a full ID
/// (local first), then a unique full name, then a unique ID prefix; a network known to both
/// counts once. Ambiguity is a 400, nothing a 404 `network X not found`.
pub fn resolve(
    term: &str,
    local: &[LocalNetwork],
    state: &ClusterState,
    mode: ResolveMode<'_>,
) -> ControlResult<Resolved> {
    let scope = match mode {
        ResolveMode::Inspect { scope } => scope.filter(|s| !s.is_empty()),
        ResolveMode::Remove => None,
    };
    let in_scope = |s: &str| scope.is_none_or(|want| want == s);
    let mut by_name: BTreeMap<&str, Candidate<'_>> = BTreeMap::new();
    let mut by_prefix: BTreeMap<&str, Candidate<'_>> = BTreeMap::new();
    for network in local.iter().filter(|n| in_scope(&n.scope)) {
        if network.id == term {
            return Ok(Resolved::Local(network.id.clone()));
        }
        let hidden = mode == ResolveMode::Remove && network.ingress;
        if network.name == term && !hidden {
            by_name.insert(&network.id, Candidate::Local(network));
        }
        if network.id.starts_with(term) {
            by_prefix.insert(&network.id, Candidate::Local(network));
        }
    }
    if let ResolveMode::Inspect { .. } = mode {
        // The cluster's own lookup (ID, name, unique prefix) wins when the term is a prefix of
        // the ID it found, or the client asked for the swarm scope; a local copy of that same
        // network is preferred, as the engine would show its containers.
        if let Ok(found) = state.resolve::<Network>(term) {
            if found.id.starts_with(term) || scope == Some(SWARM_SCOPE) {
                let local_copy = by_prefix
                    .get(found.id.as_str())
                    .or_else(|| by_name.get(found.id.as_str()));
                return Ok(match local_copy {
                    Some(candidate) => candidate.resolved(),
                    None => Resolved::Swarm(found),
                });
            }
        }
    }
    if in_scope(SWARM_SCOPE) {
        for network in state.networks.values() {
            if network.id == term {
                return Ok(Resolved::Swarm(Arc::clone(network)));
            }
            if network.spec.name == term {
                by_name
                    .entry(&network.id)
                    .or_insert(Candidate::Swarm(network));
            }
            if network.id.starts_with(term) {
                by_prefix
                    .entry(&network.id)
                    .or_insert(Candidate::Swarm(network));
            }
        }
    }
    let ambiguous = |count: usize, basis: &str| {
        ControlError::Invalid(match mode {
            ResolveMode::Inspect { .. } => {
                format!("{count} matches found based on {basis}: network {term} is ambiguous")
            }
            ResolveMode::Remove => {
                format!("network {term} is ambiguous ({count} matches found based on {basis})")
            }
        })
    };
    if by_name.len() > 1 {
        return Err(ambiguous(by_name.len(), "name"));
    }
    if let Some(only) = by_name.values().next() {
        return Ok(only.resolved());
    }
    if by_prefix.len() > 1 {
        return Err(ambiguous(by_prefix.len(), "ID prefix"));
    }
    by_prefix
        .values()
        .next()
        .map(Candidate::resolved)
        .ok_or_else(|| ControlError::NotFound(format!("network {term} not found")))
}

impl Control {
    /// Whether `term` may name a swarm network (an ID, an ID prefix, or a name of one); when
    /// it cannot, `/networks/{term}` is the engine's alone. False on a node that is not an
    /// active manager.
    pub fn may_be_swarm_network(&self, term: &str) -> bool {
        let Ok(manager) = self.manager() else {
            return false;
        };
        let state = manager.store.read();
        state
            .networks
            .values()
            .any(|n| n.id.starts_with(term) || n.spec.name == term)
    }

    /// The engine's first check on any `POST /networks/create` in swarm mode: the name must
    /// not be a swarm network's (`network with name X already exists`).
    pub fn check_network_name_free(&self, name: &str) -> ControlResult<()> {
        let manager = self.manager()?;
        let taken = manager.store.read().by_name::<Network>(name).is_some();
        if taken {
            return Err(name_taken(name));
        }
        Ok(())
    }

    /// The swarm networks passing `filters`, in the `/networks` shape, ordered by ID.
    pub fn list_networks(&self, filters: &Filters) -> ControlResult<Vec<NetworkResource>> {
        let manager = self.manager()?;
        let state = manager.store.read();
        Ok(state
            .networks
            .values()
            .filter(|n| matches_filters(filters, n))
            .map(|n| to_resource(n))
            .collect())
    }

    /// Resolves a network reference among the engine's networks and the swarm's.
    pub async fn resolve_network(
        &self,
        term: &str,
        mode: ResolveMode<'_>,
    ) -> ControlResult<Resolved> {
        let manager = self.manager()?;
        let local = self.local_networks().await;
        let state = manager.store.read();
        resolve(term, &local, &state, mode)
    }

    /// `POST /networks/create` of a swarm network.
    pub async fn create_network(
        &self,
        request: NetworkCreateRequest,
    ) -> ControlResult<NetworkCreateResponse> {
        let manager = self.manager()?;
        let local = self.local_networks().await;
        validate_create(&request, &manager.store.read(), &local)?;
        let id = new_id();
        let network = network_from_request(&request, id.clone(), self.timestamp()?);
        manager
            .propose(Command::CreateNetwork {
                network: Box::new(network),
            })
            .await?;
        tracing::info!(network.id = %id, network.name = %request.name, "network created");
        Ok(NetworkCreateResponse {
            id,
            warning: String::new(),
        })
    }

    /// `DELETE /networks/{id}` of a swarm network, by its full ID.
    pub async fn remove_network(&self, id: &str) -> ControlResult<()> {
        let manager = self.manager()?;
        manager
            .propose(Command::RemoveNetwork {
                id: id.to_string(),
                at: self.now(),
            })
            .await?;
        tracing::info!(network.id = %id, "network removed");
        Ok(())
    }

    /// The engine's own networks; none when it cannot be asked (its checks are then skipped).
    async fn local_networks(&self) -> Vec<LocalNetwork> {
        match self.engine().get_json("/networks").await {
            Ok(Value::Array(list)) => list.iter().filter_map(LocalNetwork::from_json).collect(),
            Ok(_) => Vec::new(),
            Err(error) => {
                tracing::warn!(%error, "cannot list the engine's networks");
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ipam;
    use crate::types::network_resource::NetworkIPAM;

    fn request(name: &str, driver: &str) -> NetworkCreateRequest {
        NetworkCreateRequest {
            name: name.into(),
            driver: driver.into(),
            check_duplicate: Some(true),
            ..Default::default()
        }
    }

    fn stored(state: &mut ClusterState, request: &NetworkCreateRequest, id: &str) -> Arc<Network> {
        let network = network_from_request(request, id.into(), Timestamp::default());
        crate::store::apply::apply(
            state,
            1,
            &Command::CreateNetwork {
                network: Box::new(network),
            },
        )
        .unwrap();
        state.networks[id].clone()
    }

    /// The state right after `swarm init`: only the ingress network.
    fn swarm() -> ClusterState {
        let mut state = ClusterState::default();
        let mut ingress = request("ingress", "overlay");
        ingress.ingress = true;
        stored(&mut state, &ingress, "ooy1txid3c4sgscoqr2rkyydx");
        state
    }

    fn local(id: &str, name: &str) -> LocalNetwork {
        LocalNetwork {
            id: id.into(),
            name: name.into(),
            scope: "local".into(),
            ingress: false,
        }
    }

    fn message(result: ControlResult<impl std::fmt::Debug>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn routes_overlay_and_swarm_scope_to_the_swarm() {
        let route = |driver: &str, scope: &str| {
            let mut r = request("n", driver);
            r.scope = scope.into();
            create_route(&r)
        };
        assert_eq!(route("overlay", ""), CreateRoute::Swarm);
        assert_eq!(route("macvlan", "swarm"), CreateRoute::Swarm);
        assert_eq!(route("", "swarm"), CreateRoute::Swarm);
        assert_eq!(route("bridge", ""), CreateRoute::Engine);
        assert_eq!(route("", ""), CreateRoute::Engine);
        assert_eq!(route("weave", "swarm"), CreateRoute::Engine);
        let mut config_only = request("n", "macvlan");
        config_only.scope = "swarm".into();
        config_only.config_only = true;
        assert_eq!(create_route(&config_only), CreateRoute::Engine);
    }

    #[test]
    fn create_checks_in_the_engine_order_with_its_texts() {
        let mut state = swarm();
        stored(&mut state, &request("net1", "overlay"), "net1id");
        let locals = [local("aef3", "bridge"), local("5897", "mybridge")];
        let check = |r: &NetworkCreateRequest| validate_create(r, &state, &locals);

        assert!(check(&request("net2", "overlay")).is_ok());
        assert_eq!(
            message(check(&request("net1", "overlay"))),
            "network with name net1 already exists"
        );
        let forbidden = check(&request("host", "overlay")).unwrap_err();
        assert!(matches!(forbidden, ControlError::Forbidden(_)));
        assert_eq!(
            forbidden.to_string(),
            "operation is not permitted on predefined host network "
        );
        assert_eq!(
            message(check(&request("mybridge", "overlay"))),
            "network with name mybridge already exists"
        );
        let mut unchecked = request("mybridge", "overlay");
        unchecked.check_duplicate = Some(false);
        assert!(check(&unchecked).is_ok());
        assert_eq!(message(check(&request(" ", "overlay"))), "invalid name:  ");
        assert_eq!(
            message(check(&request("my.net", "overlay"))),
            "rpc error: code = InvalidArgument desc = name must be valid as a DNS name component"
        );
        assert!(check(&request("a_b-c9", "overlay")).is_ok());
        assert_eq!(
            message(check(&request(&"x".repeat(64), "overlay"))),
            "rpc error: code = InvalidArgument desc = name must be 63 characters or fewer"
        );
        assert_eq!(
            message(check(&request("n", ""))),
            "rpc error: code = InvalidArgument desc = driver name: if driver is specified name is required"
        );

        let mut local_scope = request("n", "overlay");
        local_scope.scope = "local".into();
        assert_eq!(
            message(check(&local_scope)),
            "cannot downgrade network scope for overlay networks"
        );

        let mut ingress = request("ingress2", "overlay");
        ingress.ingress = true;
        assert_eq!(
            message(check(&ingress)),
            "rpc error: code = AlreadyExists desc = ingress network (ooy1txid3c4sgscoqr2rkyydx) is already present"
        );
        ingress.attachable = true;
        assert_eq!(
            message(check(&ingress)),
            "rpc error: code = InvalidArgument desc = ingress network cannot be attachable"
        );
        ingress.driver = "macvlan".into();
        assert!(matches!(
            check(&ingress),
            Err(ControlError::NotImplemented(_))
        ));

        let mut labelled = request("n", "overlay");
        labelled
            .labels
            .insert("com.docker.swarm.predefined".into(), "true".into());
        assert!(matches!(check(&labelled), Err(ControlError::Forbidden(_))));
    }

    #[test]
    fn ipam_configs_are_validated() {
        let state = swarm();
        let with = |driver: &str, subnet: &str, range: &str, gateway: &str| {
            let mut r = request("n", "overlay");
            r.ipam = Some(NetworkIPAM {
                driver: driver.into(),
                options: None,
                config: vec![NetworkIPAMConfig {
                    subnet: subnet.into(),
                    ip_range: range.into(),
                    gateway: gateway.into(),
                    ..Default::default()
                }],
            });
            validate_create(&r, &state, &[]).map_err(|e| e.to_string())
        };
        assert!(with("", "10.9.0.0/16", "10.9.1.0/24", "10.9.0.1").is_ok());
        assert!(with("default", "fd00:1::/64", "", "fd00:1::1").is_ok());
        let desc = |m: &str| Err(format!("rpc error: code = InvalidArgument desc = {m}"));
        assert_eq!(
            with("", "10.9.0.0", "", ""),
            desc("ipam configuration: invalid subnet 10.9.0.0")
        );
        assert_eq!(
            with("", "10.9.0.0/16", "10.8.0.0/24", ""),
            desc("ipam configuration: subnet 10.9.0.0/16 does not contain range 10.8.0.0/24")
        );
        assert_eq!(
            with("", "10.9.0.0/16", "", "10.8.0.1"),
            desc("ipam configuration: subnet 10.9.0.0/16 does not contain gateway 10.8.0.1")
        );
        assert_eq!(
            with("", "10.9.0.0/16", "", "nope"),
            desc("ipam configuration: invalid gateway nope")
        );
        assert_eq!(
            with("weird", "10.9.0.0/16", "", ""),
            desc("error during lookup of plugin weird")
        );
    }

    /// Transcript 071: `docker network create -d overlay --attachable net1` as listed.
    #[test]
    fn resource_shape_matches_the_engine() {
        let mut state = swarm();
        let body = r#"{"Driver":"overlay","Scope":"","IPAM":{"Driver":"default","Options":{},"Config":[]},"Internal":false,"Attachable":true,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{},"Name":"net1","CheckDuplicate":true}"#;
        let request: NetworkCreateRequest = crate::types::decode::from_str(body).unwrap();
        let mut network = network_from_request(
            &request,
            "flmd2a8he57crrurl02e2njzg".into(),
            Timestamp::parse("2026-11-22T03:04:30.939964246Z").unwrap(),
        );
        network.updated_at = network.created_at;
        crate::store::apply::apply(
            &mut state,
            9,
            &Command::CreateNetwork {
                network: Box::new(network),
            },
        )
        .unwrap();
        let net1 = &state.networks["flmd2a8he57crrurl02e2njzg"];
        let expected = serde_json::json!({"Name": "net1", "Id": "flmd2a8he57crrurl02e2njzg", "Created": "2026-11-22T03:04:30.939964246Z", "Scope": "swarm", "Driver": "overlay", "EnableIPv6": false, "IPAM": {"Driver": "default", "Options": null, "Config": [{"Subnet": "10.0.1.0/24", "Gateway": "10.0.1.1"}]}, "Internal": false, "Attachable": true, "Ingress": false, "ConfigFrom": {"Network": ""}, "ConfigOnly": false, "Containers": null, "Options": {"com.docker.network.driver.overlay.vxlanid_list": "4097"}, "Labels": null});
        assert_eq!(serde_json::to_value(to_resource(net1)).unwrap(), expected);

        // And the swarm shape inside tasks (transcript 078): Spec without IPAMOptions when the
        // request had `IPAM: null`, DriverConfiguration `{"Name":"overlay"}`, scope swarm.
        let mut stack = self::request("whoami_test-net", "overlay");
        stack
            .labels
            .insert("com.docker.stack.namespace".into(), "whoami".into());
        let stack = stored(&mut state, &stack, "stackid");
        let spec = serde_json::to_value(&stack.spec).unwrap();
        assert_eq!(
            spec,
            serde_json::json!({"Name": "whoami_test-net", "Labels": {"com.docker.stack.namespace": "whoami"}, "DriverConfiguration": {"Name": "overlay"}, "Scope": "swarm"})
        );
        let allocated = serde_json::to_value(&stack.ipam_options).unwrap();
        assert_eq!(
            allocated,
            serde_json::json!({"Driver": {"Name": "default"}, "Configs": [{"Subnet": "10.0.2.0/24", "Gateway": "10.0.2.1"}]})
        );
    }

    #[test]
    fn node_local_drivers_get_no_addresses() {
        let mut state = swarm();
        let mut macvlan = request("mv", "macvlan");
        macvlan.scope = "swarm".into();
        macvlan.options.insert("parent".into(), "eth0".into());
        let mv = stored(&mut state, &macvlan, "mvid");
        let resource = serde_json::to_value(to_resource(&mv)).unwrap();
        assert_eq!(resource["Driver"], "macvlan");
        assert_eq!(
            resource["IPAM"],
            serde_json::json!({"Driver": "", "Options": null, "Config": []})
        );
        assert_eq!(resource["Options"], Value::Null);
        assert_eq!(
            mv.spec.driver_configuration.as_ref().unwrap().options["parent"],
            "eth0"
        );
        assert!(!mv.driver_state.options.contains_key(ipam::VXLAN_ID_OPTION));
    }

    fn filters(json: &str) -> Filters {
        Filters::parse(json).unwrap()
    }

    #[test]
    fn list_filters_for_swarm_networks() {
        let mut state = swarm();
        let mut labelled = request("webdb_backend", "overlay");
        labelled
            .labels
            .insert("com.docker.stack.namespace".into(), "webdb".into());
        let n = stored(&mut state, &labelled, "pe8ec5ay3sygryngav86qkx9z");
        let yes = |f: &str| matches_filters(&filters(f), &n);
        assert!(yes("{}"));
        assert!(yes(r#"{"driver":{"overlay":true},"scope":{"swarm":true}}"#));
        assert!(!yes(r#"{"scope":{"local":true}}"#));
        assert!(!yes(r#"{"driver":{"bridge":true}}"#));
        assert!(yes(
            r#"{"label":{"com.docker.stack.namespace=webdb":true}}"#
        ));
        assert!(yes(r#"{"label":{"com.docker.stack.namespace":true}}"#));
        assert!(!yes(r#"{"label":{"com.docker.stack.namespace=app":true}}"#));
        assert!(yes(r#"{"name":{"backend":true}}"#));
        assert!(yes(r#"{"name":["^webdb_"]}"#));
        assert!(yes(r#"{"name":["web.*end$"]}"#));
        assert!(!yes(r#"{"name":["^backend"]}"#));
        assert!(yes(r#"{"id":{"pe8ec":true}}"#));
        assert!(!yes(r#"{"id":{"zz":true}}"#));
        assert!(yes(r#"{"type":{"custom":true}}"#));
        assert!(!yes(r#"{"type":{"builtin":true}}"#));
        assert!(yes(r#"{"dangling":{"true":true}}"#));
        assert!(!yes(r#"{"dangling":["0"]}"#));

        let check = |f: &str| validate_list_filters(&filters(f)).map_err(|e| e.to_string());
        assert_eq!(
            check(r#"{"bogus":{"x":true}}"#),
            Err("Invalid filter 'bogus'".into())
        );
        assert_eq!(
            check(r#"{"type":["x"]}"#),
            Err("invalid filter: 'type'='x'".into())
        );
        assert_eq!(
            check(r#"{"dangling":["true","false"]}"#),
            Err("got more than one value for filter key \"dangling\"".into())
        );
        assert!(check(r#"{"dangling":["maybe"]}"#).is_err());
        assert!(check(r#"{"label":["a"],"name":["b"]}"#).is_ok());
    }

    #[test]
    fn small_regular_expressions() {
        assert!(simple_regex_match("net", "my-net-1"));
        assert!(simple_regex_match("^my", "my-net"));
        assert!(!simple_regex_match("^net", "my-net"));
        assert!(simple_regex_match("net$", "my-net"));
        assert!(!simple_regex_match("my$", "my-net"));
        assert!(simple_regex_match("m.-n", "my-net"));
        assert!(simple_regex_match("^m.*t$", "my-net"));
        assert!(simple_regex_match("", "anything"));
    }

    #[test]
    fn merged_list_puts_swarm_first_and_drops_duplicates() {
        let state = swarm();
        let swarm: Vec<NetworkResource> = state.networks.values().map(|n| to_resource(n)).collect();
        let local = vec![
            serde_json::json!({"Name": "bridge", "Id": "aef3", "Scope": "local", "Extra": 1}),
            serde_json::json!({"Name": "ingress", "Id": "ooy1txid3c4sgscoqr2rkyydx", "Scope": "swarm"}),
        ];
        let merged = merge_lists(swarm, local).unwrap();
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0]["Name"], "ingress");
        assert_eq!(merged[0]["Containers"], Value::Null);
        assert_eq!(merged[1]["Extra"], 1);
    }

    #[test]
    fn resolution_follows_the_engine() {
        let mut state = swarm();
        stored(
            &mut state,
            &request("same", "overlay"),
            "dppzxd9kzx1cvv4tipab5r386",
        );
        stored(
            &mut state,
            &request("net1", "overlay"),
            "flmd2a8he57crrurl02e2njzg",
        );
        let locals = [
            local("dc6f1220fc52aaaa", "bridge"),
            local("bd64f74208857ecd", "same"),
            LocalNetwork {
                ingress: true,
                ..local("a1b2", "lingress")
            },
        ];
        let inspect = ResolveMode::Inspect { scope: None };
        let pick = |term: &str, mode| resolve(term, &locals, &state, mode);
        let swarm_id = |r: ControlResult<Resolved>| match r {
            Ok(Resolved::Swarm(n)) => n.id.clone(),
            other => panic!("{other:?}"),
        };

        assert_eq!(swarm_id(pick("net1", inspect)), "flmd2a8he57crrurl02e2njzg");
        assert_eq!(swarm_id(pick("flmd", inspect)), "flmd2a8he57crrurl02e2njzg");
        assert_eq!(
            swarm_id(pick("flmd2a8he57crrurl02e2njzg", ResolveMode::Remove)),
            "flmd2a8he57crrurl02e2njzg"
        );
        assert_eq!(
            pick("bd64f74208857ecd", inspect).unwrap(),
            Resolved::Local("bd64f74208857ecd".into())
        );
        assert_eq!(
            message(pick("same", inspect)),
            "2 matches found based on name: network same is ambiguous"
        );
        assert_eq!(
            message(pick("same", ResolveMode::Remove)),
            "network same is ambiguous (2 matches found based on name)"
        );
        assert_eq!(
            swarm_id(pick(
                "same",
                ResolveMode::Inspect {
                    scope: Some("swarm")
                }
            )),
            "dppzxd9kzx1cvv4tipab5r386"
        );
        assert_eq!(
            pick(
                "same",
                ResolveMode::Inspect {
                    scope: Some("local")
                }
            )
            .unwrap(),
            Resolved::Local("bd64f74208857ecd".into())
        );
        // "d" is a prefix of a local and a swarm ID.
        assert_eq!(
            message(pick("d", ResolveMode::Remove)),
            "network d is ambiguous (2 matches found based on ID prefix)"
        );
        // Local ingress networks are never removed by name.
        assert!(matches!(
            pick("lingress", ResolveMode::Remove),
            Err(ControlError::NotFound(_))
        ));
        assert_eq!(message(pick("nosuch", inspect)), "network nosuch not found");
    }
}
