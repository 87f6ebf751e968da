//! The authorization table never demands less than a statement does: text -> the one parser ->
//! `graphward_auth::policy::needs`, then the statement runs on an in-memory engine without any
//! authorization, and a data change needs WRITE, a schema change ADMIN on the graph, a database
//! change ADMIN on every graph.
#![no_main]

use std::sync::OnceLock;

use graphward_core::engine::EngineConfig;
use graphward_cypher::Engine;
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| match Engine::open_in_memory(EngineConfig::default()) {
        Ok(e) => e,
        Err(e) => panic!("cannot open an in-memory engine: {e}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = graphward_auth::policy::audit::check(engine(), text) {
        panic!("{e}");
    }
});
