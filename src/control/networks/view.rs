//! Swarm networks as `/networks` shows them: the resource shape, list filters, the merged
//! list with the engine's networks, and name/ID resolution across both.

use super::*;

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
pub(super) fn simple_regex_match(pattern: &str, source: &str) -> bool {
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
/// network already has, as the engine's router does, and the bridges that stand for swarm
/// networks on this node (the agent's, labelled `io.shoal.network.id`): the engine lists a
/// swarm network once.
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
        let stands_for_swarm_network = value
            .get("Labels")
            .and_then(|l| l.get(crate::engine::NETWORK_LABEL))
            .is_some();
        if stands_for_swarm_network {
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
