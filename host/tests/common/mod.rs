//! Shared by the host's PostgreSQL tests. Each test binary compiles this
//! module on its own and uses only part of it.
#![allow(dead_code)]

/// The value of `name`, which scripts/test.sh sets. Missing: a failure when
/// `CI` is set (a test that needs PostgreSQL never skips in CI), otherwise
/// a visible "NOT RUN" and `None`.
pub fn required_env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but {name} is not (scripts/test.sh sets it)"
            );
            eprintln!("NOT RUN: needs {name}");
            None
        }
    }
}

/// The test database's URL (`NEXUS_TEST_DATABASE_URL`), as [`required_env`].
pub fn test_database() -> Option<String> {
    required_env("NEXUS_TEST_DATABASE_URL")
}

/// Drops `table` left by an earlier run, so the test starts on an empty one
/// (the backend creates it); returns the name.
pub fn fresh_table(url: &str, table: String) -> String {
    postgres::Client::connect(url, postgres::NoTls)
        .expect("the test database")
        .batch_execute(&format!("DROP TABLE IF EXISTS \"{table}\""))
        .expect("dropping the previous run's table");
    table
}
