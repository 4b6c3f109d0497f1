use nexus_host::Nexus;

#[test]
fn set_then_get_through_the_component() {
    let nexus = Nexus::memory().unwrap();
    let ns = nexus.namespace("app1").unwrap();
    ns.set("user:1", "ada").unwrap();
    assert_eq!(ns.get_value("user:1").unwrap().as_deref(), Some(&b"ada"[..]));
    assert_eq!(ns.size().unwrap(), 1);
}
