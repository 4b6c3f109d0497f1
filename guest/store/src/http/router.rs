//! The route table: every (method, path template) the API answers, and the
//! matching of a request path against it.
//!
//! The table is data, not code, so that the OpenAPI document can be checked
//! against it (see `openapi.rs`) and the host can label metrics by template.

/// Which handler a route runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteId {
    // The PyKV-compatible key-value API.
    Set,
    Get,
    Delete,
    ListNamespaces,
    NamespaceKeyCount,
    ClearNamespace,
    Stats,
    Health,
    OpenApi,
    // Maintenance.
    Tick,
    /// Served by the host (Prometheus text); here for its access rule.
    Metrics,
    /// Served by the hosts that keep a window of their requests; here for
    /// its access rule (PyKV's `/performance`).
    Performance,
    RecentErrors,
    /// PyKV's `POST /compact`: what a host's storage can do, it does.
    Compact,
    // Access tokens.
    ListTokens,
    CreateToken,
    RevokeToken,
    // Namespaces.
    NamespaceInfo,
    GetMetadata,
    PutMetadata,
    GetLimits,
    PutLimits,
    GetKeyEvents,
    PutKeyEvents,
    Watch,
    ListEntries,
    Increment,
    // Events.
    Emit,
    EmitBatch,
    Receive,
    AckBatch,
    Ack,
    Nack,
    QueryLog,
    EventMetrics,
    GetEventsConfig,
    PutEventsConfig,
    ListSubscriptions,
    Subscribe,
    Unsubscribe,
    // Dead letters.
    ListDeadLetters,
    ReplayAllDeadLetters,
    PurgeDeadLetters,
    GetDeadLetter,
    ReplayDeadLetter,
    // Nodes.
    RegisterNode,
    ListNodes,
    GetNode,
    Heartbeat,
    DeregisterNode,
    // Tasks.
    CreateTask,
    ListTasks,
    GetTask,
    PauseTask,
    ResumeTask,
    DeleteTask,
}

/// One route. `{name}` segments of the template capture one path segment,
/// percent-decoded; a route with `rest` set lets its last parameter take
/// the rest of the path, slashes included (PyKV keys such as `a/b` work in
/// `/get/{key}` with or without encoding the slash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub template: &'static str,
    pub id: RouteId,
    pub rest: bool,
}

const fn route(method: &'static str, template: &'static str, id: RouteId) -> Route {
    Route {
        method,
        template,
        id,
        rest: false,
    }
}

/// First match wins, so a literal segment (`/events/log`) is listed before
/// a parameter in the same place (`/events/{id}`).
pub const ROUTES: &[Route] = &[
    Route {
        rest: true,
        ..route("GET", "/get/{key}", RouteId::Get)
    },
    Route {
        rest: true,
        ..route("DELETE", "/delete/{key}", RouteId::Delete)
    },
    route("POST", "/set", RouteId::Set),
    route("GET", "/stats", RouteId::Stats),
    route("GET", "/health", RouteId::Health),
    route("GET", "/openapi.json", RouteId::OpenApi),
    route("POST", "/tick", RouteId::Tick),
    route("GET", "/metrics", RouteId::Metrics),
    route("GET", "/performance", RouteId::Performance),
    route("POST", "/compact", RouteId::Compact),
    route("GET", "/performance/recent-errors", RouteId::RecentErrors),
    route("GET", "/tokens", RouteId::ListTokens),
    route("POST", "/tokens", RouteId::CreateToken),
    route("DELETE", "/tokens/{name}", RouteId::RevokeToken),
    route("GET", "/namespaces", RouteId::ListNamespaces),
    route("GET", "/namespaces/{ns}", RouteId::NamespaceInfo),
    route("DELETE", "/namespaces/{ns}", RouteId::ClearNamespace),
    route("GET", "/namespaces/{ns}/keys", RouteId::NamespaceKeyCount),
    route("GET", "/namespaces/{ns}/entries", RouteId::ListEntries),
    route("POST", "/namespaces/{ns}/increment", RouteId::Increment),
    route("GET", "/namespaces/{ns}/metadata", RouteId::GetMetadata),
    route("PUT", "/namespaces/{ns}/metadata", RouteId::PutMetadata),
    route("GET", "/namespaces/{ns}/limits", RouteId::GetLimits),
    route("PUT", "/namespaces/{ns}/limits", RouteId::PutLimits),
    route("GET", "/namespaces/{ns}/key-events", RouteId::GetKeyEvents),
    route("PUT", "/namespaces/{ns}/key-events", RouteId::PutKeyEvents),
    route("GET", "/namespaces/{ns}/watch", RouteId::Watch),
    route("POST", "/namespaces/{ns}/events", RouteId::Emit),
    route("POST", "/namespaces/{ns}/events/batch", RouteId::EmitBatch),
    route("POST", "/namespaces/{ns}/events/receive", RouteId::Receive),
    route("POST", "/namespaces/{ns}/events/ack", RouteId::AckBatch),
    route("GET", "/namespaces/{ns}/events/log", RouteId::QueryLog),
    route(
        "GET",
        "/namespaces/{ns}/events/metrics",
        RouteId::EventMetrics,
    ),
    route(
        "GET",
        "/namespaces/{ns}/events/config",
        RouteId::GetEventsConfig,
    ),
    route(
        "PUT",
        "/namespaces/{ns}/events/config",
        RouteId::PutEventsConfig,
    ),
    route("POST", "/namespaces/{ns}/events/{id}/ack", RouteId::Ack),
    route("POST", "/namespaces/{ns}/events/{id}/nack", RouteId::Nack),
    route(
        "GET",
        "/namespaces/{ns}/subscriptions",
        RouteId::ListSubscriptions,
    ),
    route(
        "PUT",
        "/namespaces/{ns}/subscriptions/{name}",
        RouteId::Subscribe,
    ),
    route(
        "DELETE",
        "/namespaces/{ns}/subscriptions/{name}",
        RouteId::Unsubscribe,
    ),
    route("GET", "/namespaces/{ns}/dlq", RouteId::ListDeadLetters),
    route("DELETE", "/namespaces/{ns}/dlq", RouteId::PurgeDeadLetters),
    route(
        "POST",
        "/namespaces/{ns}/dlq/replay",
        RouteId::ReplayAllDeadLetters,
    ),
    route("GET", "/namespaces/{ns}/dlq/{id}", RouteId::GetDeadLetter),
    route(
        "POST",
        "/namespaces/{ns}/dlq/{id}/replay",
        RouteId::ReplayDeadLetter,
    ),
    route("POST", "/namespaces/{ns}/nodes", RouteId::RegisterNode),
    route("GET", "/namespaces/{ns}/nodes", RouteId::ListNodes),
    route("GET", "/namespaces/{ns}/nodes/{id}", RouteId::GetNode),
    route(
        "DELETE",
        "/namespaces/{ns}/nodes/{id}",
        RouteId::DeregisterNode,
    ),
    route(
        "POST",
        "/namespaces/{ns}/nodes/{id}/heartbeat",
        RouteId::Heartbeat,
    ),
    route("POST", "/namespaces/{ns}/tasks", RouteId::CreateTask),
    route("GET", "/namespaces/{ns}/tasks", RouteId::ListTasks),
    route("GET", "/namespaces/{ns}/tasks/{name}", RouteId::GetTask),
    route(
        "DELETE",
        "/namespaces/{ns}/tasks/{name}",
        RouteId::DeleteTask,
    ),
    route(
        "POST",
        "/namespaces/{ns}/tasks/{name}/pause",
        RouteId::PauseTask,
    ),
    route(
        "POST",
        "/namespaces/{ns}/tasks/{name}/resume",
        RouteId::ResumeTask,
    ),
];

/// The outcome of matching a request line against [`ROUTES`].
#[derive(Debug, PartialEq, Eq)]
pub enum Matched {
    Route {
        route: &'static Route,
        /// Decoded parameters in template order.
        params: Vec<(&'static str, String)>,
    },
    /// The path exists with other methods (405, with an `Allow` list).
    WrongMethod {
        allow: Vec<&'static str>,
    },
    /// `OPTIONS` on a path that exists: the methods it answers.
    Options {
        allow: Vec<&'static str>,
    },
    NotFound,
}

/// The first route whose template matches the path decides the template
/// (literal segments are listed before parameters in the same place); the
/// method is then looked up among that template's routes. So
/// `GET /namespaces/a/dlq/replay` is 405 (the path is the replay route's),
/// not a dead letter with the id `replay`, and `Allow` lists exactly the
/// methods of one template.
pub fn find(method: &str, path: &str) -> Matched {
    let Some((first, params)) = ROUTES
        .iter()
        .find_map(|route| match_path(route, path).map(|params| (route, params)))
    else {
        return Matched::NotFound;
    };
    if first.method.eq_ignore_ascii_case(method) {
        return Matched::Route {
            route: first,
            params,
        };
    }
    let template = first.template;
    let mut allow = Vec::new();
    for route in ROUTES.iter().filter(|r| r.template == template) {
        if route.method.eq_ignore_ascii_case(method) {
            let params = match_path(route, path).unwrap_or_default();
            return Matched::Route { route, params };
        }
        if !allow.contains(&route.method) {
            allow.push(route.method);
        }
    }
    if method.eq_ignore_ascii_case("OPTIONS") {
        allow.push("OPTIONS");
        Matched::Options { allow }
    } else {
        Matched::WrongMethod { allow }
    }
}

/// Parameters are decoded after splitting, so `%2F` inside a segment is a
/// slash in the value and never a separator. Empty parameters do not match.
fn match_path(route: &Route, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut template = route.template.split('/');
    let mut rest_of_path = path;
    let mut params = Vec::new();
    // Both start with '/': skip the empty first segment of each.
    template.next()?;
    rest_of_path = rest_of_path.strip_prefix('/')?;
    let segments: Vec<&str> = template.collect();
    for (i, want) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let (segment, tail) = if last && route.rest && want.starts_with('{') {
            (rest_of_path, "")
        } else {
            match rest_of_path.split_once('/') {
                Some((segment, tail)) => (segment, tail),
                None => (rest_of_path, ""),
            }
        };
        match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) => {
                if segment.is_empty() {
                    return None;
                }
                params.push((name, decode(segment)?));
            }
            None if *want == segment => {}
            None => return None,
        }
        let consumed_all = tail.is_empty() && segment.len() == rest_of_path.len();
        if last {
            return consumed_all.then_some(params);
        }
        if consumed_all {
            return None;
        }
        rest_of_path = tail;
    }
    // A template of just "/" never occurs; treat it as no match.
    None
}

/// Percent-decodes a path segment; `None` if the bytes are not UTF-8.
fn decode(segment: &str) -> Option<String> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(method: &str, path: &str) -> (RouteId, Vec<(&'static str, String)>) {
        match find(method, path) {
            Matched::Route { route, params } => (route.id, params),
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    #[test]
    fn literal_segments_win_over_parameters() {
        assert_eq!(
            params("POST", "/namespaces/a/events/ack").0,
            RouteId::AckBatch
        );
        assert_eq!(
            params("POST", "/namespaces/a/dlq/replay").0,
            RouteId::ReplayAllDeadLetters
        );
        let (id, p) = params("POST", "/namespaces/a/events/0123/ack");
        assert_eq!(id, RouteId::Ack);
        assert_eq!(p, [("ns", "a".to_string()), ("id", "0123".to_string())]);
    }

    #[test]
    fn a_key_parameter_takes_the_rest_of_the_path_decoded() {
        let (_, p) = params("GET", "/get/user:123");
        assert_eq!(p, [("key", "user:123".to_string())]);
        let (_, p) = params("GET", "/get/a/b%2Fc%20d");
        assert_eq!(p, [("key", "a/b/c d".to_string())]);
        let (_, p) = params("DELETE", "/delete/%F0%9F%94%91");
        assert_eq!(p, [("key", "🔑".to_string())]);
    }

    #[test]
    fn an_encoded_slash_stays_inside_its_segment() {
        let (_, p) = params("GET", "/namespaces/a%2Fb");
        assert_eq!(p, [("ns", "a/b".to_string())]);
    }

    #[test]
    fn empty_parameters_extra_segments_and_bad_utf8_do_not_match() {
        assert_eq!(find("GET", "/get/"), Matched::NotFound);
        assert_eq!(find("GET", "/namespaces//keys"), Matched::NotFound);
        assert_eq!(find("GET", "/namespaces/a/keys/extra"), Matched::NotFound);
        assert_eq!(find("GET", "/health/"), Matched::NotFound);
        assert_eq!(find("GET", "/namespaces/%FF"), Matched::NotFound);
        assert_eq!(find("GET", "nohead"), Matched::NotFound);
    }

    #[test]
    fn a_known_path_with_another_method_is_405_with_the_allowed_ones() {
        assert_eq!(
            find("PATCH", "/namespaces/a"),
            Matched::WrongMethod {
                allow: vec!["GET", "DELETE"]
            }
        );
        assert_eq!(
            find("GET", "/set"),
            Matched::WrongMethod {
                allow: vec!["POST"]
            }
        );
    }

    #[test]
    fn options_on_a_known_path_lists_its_methods_and_is_never_405() {
        assert_eq!(
            find("OPTIONS", "/namespaces/a"),
            Matched::Options {
                allow: vec!["GET", "DELETE", "OPTIONS"]
            }
        );
        for route in ROUTES {
            let path = route.template.replace(['{', '}'], "");
            assert!(
                matches!(find("OPTIONS", &path), Matched::Options { .. }),
                "OPTIONS {path}"
            );
        }
        assert_eq!(find("OPTIONS", "/nowhere"), Matched::NotFound);
        assert_eq!(
            find("OPTIONS", "/namespaces/a/dlq/replay"),
            Matched::Options {
                allow: vec!["POST", "OPTIONS"]
            }
        );
    }

    #[test]
    fn a_path_belongs_to_the_first_template_it_matches() {
        assert_eq!(
            find("GET", "/namespaces/a/dlq/replay"),
            Matched::WrongMethod {
                allow: vec!["POST"]
            }
        );
        assert_eq!(
            params("GET", "/namespaces/a/dlq/0123").0,
            RouteId::GetDeadLetter
        );
    }

    #[test]
    fn every_route_is_listed_once() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.template == b.template),
                    "{} {} twice",
                    a.method,
                    a.template
                );
                assert_ne!(a.id, b.id, "{:?} on two routes", a.id);
            }
        }
    }
}
