//! The edge component as Spin runs a WASIp2 HTTP component: compiled and
//! linked once, a fresh instance (its own store, WASI context and SQLite
//! connections) for every request, dropped when the request is done.
//!
//! What an instance is given, all of it within `spin:up/platform@3.6.0`:
//! `wasi:cli/imports@0.2.6` (clocks, random, stdio, environment, exit, and
//! the filesystem and socket interfaces with nothing behind them: no
//! preopened directory, no socket address allowed, no name lookup),
//! `wasi:http` (`types`, and `outgoing-handler`, which denies every request
//! as Spin does for a component without `allowed_outbound_hosts`) and
//! `spin:sqlite/sqlite@3.0.0`. Nothing else Spin offers (key-value,
//! variables, Redis, Postgres, ...) is linked, so a component that imports
//! it fails to start here even where Spin would run it.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{
    Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store,
    StoreLimits, StoreLimitsBuilder,
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::clock::ManualClock;
use crate::outbound::DenyOutbound;
use crate::sqlite::{Database, Sqlite, SqliteHost};

/// Instances that may be alive at once with the pooling allocator. A
/// request beyond them fails to instantiate and gets a 500, as on a Spin
/// host whose pool is spent.
const MAX_INSTANCES: u32 = 128;

/// Largest linear memory one instance may grow to (the store component's
/// memory reaches tens of MiB on large scans). Beyond it `memory.grow`
/// fails and the guest's allocator aborts: the request gets a 500.
const MAX_MEMORY_BYTES: usize = 256 << 20;

/// The compiled component and everything needed to instantiate it.
pub struct Edge {
    pre: ProxyPre<Instance>,
    database: Arc<Database>,
    clock: Option<ManualClock>,
    environment: Vec<(String, String)>,
}

/// One request's store data.
pub(crate) struct Instance {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    outbound: DenyOutbound,
    table: ResourceTable,
    sqlite: Sqlite,
    limits: StoreLimits,
}

impl WasiView for Instance {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Instance {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

impl Edge {
    /// Compiles `component` (slow: seconds, or instant from wasmtime's
    /// on-disk cache) and links it. Fails when the component imports
    /// anything this harness does not provide.
    pub(crate) fn new(
        component: &Path,
        database: Database,
        clock: Option<ManualClock>,
        pooling: bool,
        environment: Vec<(String, String)>,
    ) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        if pooling {
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config()));
        }
        // As in nexus-host: the cache makes every start after the first
        // one instant; without a usable cache directory, compile each time.
        if let Ok(cache) = Cache::new(CacheConfig::new()) {
            config.cache(Some(cache));
        }
        let engine = Engine::new(&config)?;
        let component = Component::from_file(&engine, component)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling {}", component.display()))?;
        let mut linker = Linker::<Instance>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        SqliteHost::add_to_linker::<Instance, HasSelf<Sqlite>>(&mut linker, |i| &mut i.sqlite)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("linking the component: it imports something Spin's platform world (as this harness provides it) does not")?;
        let pre = ProxyPre::new(pre)
            .map_err(anyhow::Error::from)
            .context("the component does not export wasi:http/incoming-handler")?;
        Ok(Self {
            pre,
            database: Arc::new(database),
            clock,
            environment,
        })
    }

    /// The harness's edge for `options` (its component, database, clock and
    /// allocator), without a server: for benchmarks that time one request.
    pub fn open(options: &crate::HarnessOptions) -> anyhow::Result<Self> {
        Self::new(
            &options.component,
            Database::new(&options.database),
            options.manual_clock_ms.map(ManualClock::new),
            options.pooling,
            options.environment.clone(),
        )
    }

    /// Instantiates the component in a new store and drops it: what every
    /// request pays before the guest runs.
    pub async fn instantiate(&self) -> anyhow::Result<()> {
        let mut store = self.new_store();
        self.pre.instantiate_async(&mut store).await?;
        Ok(())
    }

    fn new_store(&self) -> Store<Instance> {
        let mut wasi = WasiCtx::builder();
        // stdout/stderr reach the harness's own, so a guest panic message
        // is in the logs; the environment `spin.toml` would give; no
        // arguments, preopens or sockets.
        wasi.inherit_stdout().inherit_stderr();
        wasi.envs(&self.environment);
        wasi.allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        if let Some(clock) = &self.clock {
            wasi.wall_clock(clock.clone());
        }
        let instance = Instance {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            outbound: DenyOutbound,
            table: ResourceTable::new(),
            sqlite: Sqlite::new(self.database.clone()),
            limits: StoreLimitsBuilder::new()
                .memory_size(MAX_MEMORY_BYTES)
                .build(),
        };
        let mut store = Store::new(self.pre.engine(), instance);
        store.limiter(|i| &mut i.limits);
        store
    }

    /// Runs `request` on a new instance. The response comes back as soon as
    /// the guest sets it; the guest keeps running (to write the body) in a
    /// task that holds `in_flight` until the instance is gone, so shutdown
    /// can wait for it.
    pub async fn handle<B>(
        &self,
        request: hyper::Request<B>,
        in_flight: tokio::sync::mpsc::Sender<()>,
    ) -> Result<hyper::Response<HyperOutgoingBody>, RequestFailed>
    where
        B: hyper::body::Body<Data = hyper::body::Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let mut store = self.new_store();
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let mut http = store.data_mut().http();
        let request = http
            .new_incoming_request(Scheme::Http, request)
            .map_err(|e| RequestFailed::BadRequest(format!("{e:#}")))?;
        let out = http
            .new_response_outparam(sender)
            .map_err(|e| RequestFailed::Guest(e.into()))?;
        let pre = self.pre.clone();
        let task = tokio::spawn(async move {
            let _in_flight = in_flight;
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, out)
                .await
        });
        match receiver.await {
            Ok(Ok(response)) => {
                // A guest that fails after answering (writing the body, say)
                // cuts the response short; say why in the logs.
                tokio::spawn(async move {
                    if let Ok(Err(e)) = task.await {
                        eprintln!(
                            "nexus-edge-harness: the component failed after answering: {e:#}"
                        );
                    }
                });
                Ok(response)
            }
            Ok(Err(code)) => Err(RequestFailed::Guest(anyhow::anyhow!(
                "the component answered with an error: {code:?}"
            ))),
            // The guest dropped the outparam without setting it: it
            // trapped, or returned without answering.
            Err(_) => Err(RequestFailed::Guest(match task.await {
                Ok(Ok(())) => anyhow::anyhow!("the component returned without setting a response"),
                Ok(Err(e)) => anyhow::Error::from(e).context("the component failed"),
                Err(e) => anyhow::Error::from(e).context("the component's task failed"),
            })),
        }
    }
}

/// Why a request got no response from the component.
#[derive(Debug)]
pub enum RequestFailed {
    /// The HTTP request could not be given to the component (e.g. no
    /// `Host` header): 400.
    BadRequest(String),
    /// The component trapped, failed to instantiate or answered an error: 500.
    Guest(anyhow::Error),
}

/// The pooling allocator, sized for about a hundred instances at once.
/// Every slot reserves address space, not memory: 128 × (4 GiB + guard) of
/// virtual space is nothing on 64-bit Linux, and only touched pages count.
fn pooling_config() -> PoolingAllocationConfig {
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(MAX_INSTANCES)
        // A Rust wasip2 component is a handful of core instances (the
        // program and the canonical-ABI shims) with one memory and a
        // couple of tables.
        .total_core_instances(MAX_INSTANCES * 8)
        .total_memories(MAX_INSTANCES * 2)
        .total_tables(MAX_INSTANCES * 4)
        .total_stacks(MAX_INSTANCES)
        .max_memory_size(MAX_MEMORY_BYTES);
    pooling
}
