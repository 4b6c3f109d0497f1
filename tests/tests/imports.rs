//! The component owns no I/O: it may import the store's own interfaces and
//! the few WASI interfaces Rust's std links, never a filesystem, sockets or
//! a wall clock. `wasi:random` makes token secrets.

#[test]
fn component_imports_only_storage_clock_and_what_std_needs() {
    let imports = nexus_host::guest_imports().unwrap();
    let allowed_std = [
        "wasi:cli/environment",
        "wasi:cli/exit",
        "wasi:cli/stdin",
        "wasi:cli/stdout",
        "wasi:cli/stderr",
        "wasi:cli/terminal-input",
        "wasi:cli/terminal-output",
        "wasi:cli/terminal-stdin",
        "wasi:cli/terminal-stdout",
        "wasi:cli/terminal-stderr",
        "wasi:io/error",
        "wasi:io/poll",
        "wasi:io/streams",
        "wasi:random/random",
    ];
    for import in &imports {
        let name = import.split('@').next().unwrap();
        assert!(
            name.starts_with("nexus:store/") || allowed_std.contains(&name),
            "unexpected import {import}"
        );
    }
    for needed in ["nexus:store/storage", "nexus:store/clock"] {
        assert!(
            imports.iter().any(|i| i.starts_with(needed)),
            "{needed} missing"
        );
    }
}
