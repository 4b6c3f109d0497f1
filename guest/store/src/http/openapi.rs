//! `GET /openapi.json`: the API's description, kept in the repository as
//! `docs/openapi.json` and compiled in, so every host serves the document
//! of the code it runs.

use super::{Handled, Problem, Reply};

pub const DOCUMENT: &str = include_str!("../../../../docs/openapi.json");

pub fn document() -> Handled {
    serde_json::from_str(DOCUMENT).map(Reply::ok).map_err(|e| {
        Problem::new(
            500,
            format!("the compiled-in OpenAPI document is not JSON: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::DOCUMENT;
    use crate::http::ROUTES;

    fn operations() -> BTreeSet<(String, String)> {
        let doc: Value = serde_json::from_str(DOCUMENT).expect("docs/openapi.json is JSON");
        assert!(
            doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
            "an OpenAPI 3 document"
        );
        let paths = doc["paths"].as_object().expect("a paths object");
        let mut ops = BTreeSet::new();
        for (path, item) in paths {
            for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
                if item.get(method).is_some() {
                    ops.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        ops
    }

    #[test]
    fn every_route_the_server_answers_is_documented_and_nothing_else() {
        let documented = operations();
        let served: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.to_string(), r.template.to_string()))
            .collect();
        let undocumented: Vec<_> = served.difference(&documented).collect();
        let unserved: Vec<_> = documented.difference(&served).collect();
        assert!(
            undocumented.is_empty(),
            "served but not in docs/openapi.json: {undocumented:?}"
        );
        assert!(
            unserved.is_empty(),
            "in docs/openapi.json but not served: {unserved:?}"
        );
    }
}

#[cfg(test)]
mod access_tests {
    use serde_json::Value;

    use super::DOCUMENT;
    use crate::access::Scope;
    use crate::http::{ROUTES, Rule, rule};

    #[test]
    fn each_operation_documents_the_access_it_is_given() {
        let doc: Value = serde_json::from_str(DOCUMENT).unwrap();
        for route in ROUTES {
            let op = &doc["paths"][route.template][route.method.to_lowercase()];
            let documented = op["x-nexus-access"].as_str();
            let enforced = match rule(route.id) {
                Rule::Open => "open",
                Rule::OpenUnlessNamespaced(Scope::Read) => "open; read on ?ns=",
                Rule::OpenUnlessNamespaced(_) => "open; more on ?ns=",
                Rule::Scoped(Scope::Read) => "read",
                Rule::Scoped(Scope::Write) => "write",
                Rule::Scoped(Scope::Admin) => "admin",
                Rule::WholeStore => "store-admin",
            };
            assert_eq!(
                documented,
                Some(enforced),
                "{} {}",
                route.method,
                route.template
            );
            let responses = &op["responses"];
            let challenged = responses.get("401").is_some() && responses.get("403").is_some();
            assert_eq!(
                challenged,
                enforced != "open",
                // (a route open unless namespaced is challenged for a
                // namespace)
                "{} {}: 401/403",
                route.method,
                route.template
            );
        }
    }
}
