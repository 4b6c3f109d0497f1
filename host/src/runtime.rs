//! Running the component: one compiled component per process, linked once
//! into an `InstancePre`, and a pool of ready instances so that many threads
//! can call the store at once without paying for instantiation per call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Cache, CacheConfig, Config, Engine};

use crate::backend::Backend;
use crate::bindings::{self, HostState, SharedClock};
use crate::error::Error;
use crate::wait::Waiters;

/// The guest component, built by `build.rs` from `guest/component`.
pub static GUEST_WASM: &[u8] = include_bytes!(env!("NEXUS_GUEST_WASM"));

/// Largest linear memory an instance may grow to by default; beyond it the
/// guest traps and the instance is replaced.
pub const DEFAULT_GUEST_MEMORY: usize = 1 << 30;

/// How often the engine's epoch advances. A call's time budget is counted in
/// these ticks: a guest still running when its budget is spent traps (and
/// its instance is replaced), so one call cannot hold a thread forever.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The default time budget of one call into the guest.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

struct Compiled {
    engine: Engine,
    component: Component,
    pre: bindings::StorePre<HostState>,
}

/// The names of everything the embedded component imports, e.g.
/// `nexus:store/storage@0.1.0` or `wasi:io/streams@0.2.x`.
pub fn guest_imports() -> Result<Vec<String>, Error> {
    let compiled = compiled()?;
    Ok(compiled
        .component
        .component_type()
        .imports(&compiled.engine)
        .map(|(name, _)| name.to_string())
        .collect())
}

/// Compiling the component takes a while; every `Nexus` in the process shares it.
fn compiled() -> Result<&'static Compiled, Error> {
    static COMPILED: OnceLock<Result<Compiled, String>> = OnceLock::new();
    COMPILED
        .get_or_init(|| compile().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| Error::Setup(anyhow::anyhow!("{e}")))
}

fn compile() -> anyhow::Result<Compiled> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // For `perf`: name the guest's compiled functions in /tmp/perf-PID.map,
    // so a profile shows them instead of bare JIT addresses
    // (docs/benchmarks.md, "Profiling the guest").
    if std::env::var_os("NEXUS_PERF_MAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config.epoch_interruption(true);
    // Compiling the component takes most of a second; wasmtime's on-disk
    // cache (in the user's cache directory) makes every start after the
    // first one instant, which matters for a CLI. Without a usable cache
    // directory nexus just compiles every time.
    match Cache::new(CacheConfig::new()) {
        Ok(cache) => {
            config.cache(Some(cache));
        }
        Err(e) => tracing::debug!(error = %e, "no compilation cache"),
    }
    let engine = Engine::new(&config)?;
    let ticking = engine.clone();
    std::thread::Builder::new()
        .name("nexus-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                ticking.increment_epoch();
            }
        })
        .context("starting the epoch thread")?;
    let component = Component::new(&engine, GUEST_WASM)
        .map_err(anyhow::Error::from)
        .context("compiling the guest component")?;
    let mut linker = Linker::<HostState>::new(&engine);
    // Rust's std on wasm32-wasip2 imports a few WASI interfaces (stderr for
    // panic messages, environment, exit); `HostState::new` grants nothing more.
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    bindings::Store::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    let pre = bindings::StorePre::new(linker.instantiate_pre(&component)?)?;
    Ok(Compiled {
        engine,
        component,
        pre,
    })
}

/// A ready instance and the wasmtime store it lives in.
pub(crate) struct Instance {
    /// Names the instance while it is in a call (see [`Instances::busy`]).
    id: u64,
    store: wasmtime::Store<HostState>,
    bindings: bindings::Store,
}

/// The pool's instances, idle and in a call.
#[derive(Default)]
struct Instances {
    /// Boxed: the bindings hold one handle per export, and moving that in
    /// and out of the vector on every call showed up as a memcpy per call.
    #[allow(clippy::vec_box)]
    idle: Vec<Box<Instance>>,
    /// The ids of the instances in a call now. Each may hold read counts
    /// not yet flushed, which [`Pool::flush_all`] waits for.
    busy: Vec<u64>,
    /// Callers of [`Pool::flush_all`] waiting for a busy instance to return
    /// (only then does a return notify: most calls have no one to wake).
    flushers: usize,
}

/// Instances ready for use. A caller takes one, calls into it and gives it
/// back; an instance whose call trapped is dropped instead, and a new one is
/// made on demand.
pub(crate) struct Pool {
    storage: Arc<dyn Backend>,
    clock: SharedClock,
    waiters: Arc<Waiters>,
    /// Epoch ticks one call may run.
    deadline_ticks: u64,
    /// Bytes of linear memory one instance may grow to.
    memory_limit: usize,
    instances: Mutex<Instances>,
    /// Signalled when a busy instance returns while a flush waits for it.
    returned: Condvar,
    next_id: AtomicU64,
}

impl Pool {
    pub fn new(
        storage: Arc<dyn Backend>,
        clock: SharedClock,
        call_timeout: Duration,
        memory_limit: usize,
    ) -> Result<Self, Error> {
        compiled()?;
        let waiters = Arc::new(Waiters::new());
        storage.watch(Arc::downgrade(&waiters));
        let weak = Arc::downgrade(&waiters);
        clock.on_move(Box::new(move || {
            if let Some(waiters) = weak.upgrade() {
                waiters.wake_all();
            }
        }));
        let pool = Self {
            storage,
            clock,
            waiters,
            deadline_ticks: (call_timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64,
            memory_limit,
            instances: Mutex::new(Instances::default()),
            returned: Condvar::new(),
            next_id: AtomicU64::new(0),
        };
        // One instance now: a memory limit too small to instantiate the
        // guest at all is an error at start, not a 503 on every call.
        let first = pool.instantiate()?;
        pool.instances().idle.push(first);
        Ok(pool)
    }

    fn instantiate(&self) -> Result<Box<Instance>, Error> {
        let compiled = compiled()?;
        let state = HostState::new(
            self.storage.clone(),
            self.clock.clone(),
            self.waiters.clone(),
            self.memory_limit,
        );
        let mut store = wasmtime::Store::new(&compiled.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(self.deadline_ticks);
        // Out of time: trap, unless the call has committed since its budget
        // was set. A commit can outlast the budget (a stalled fsync, a slow
        // database) and is durable once it returns; trapping then would
        // report "nothing written" about a write that happened. Such a call
        // gets one more budget to answer; each renewal needs a new commit,
        // so a call still cannot run forever without making progress.
        let ticks = self.deadline_ticks;
        store.epoch_deadline_callback(move |mut ctx| {
            if std::mem::take(&mut ctx.data_mut().committed) {
                Ok(wasmtime::UpdateDeadline::Continue(ticks))
            } else {
                Err(wasmtime::Trap::Interrupt.into())
            }
        });
        let bindings = compiled
            .pre
            .instantiate(&mut store)
            .map_err(|e| Error::Setup(e.into()))?;
        Ok(Box::new(Instance {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            store,
            bindings,
        }))
    }

    fn instances(&self) -> MutexGuard<'_, Instances> {
        self.instances.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on an idle instance. A trap discards the instance.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&bindings::Store, &mut wasmtime::Store<HostState>) -> wasmtime::Result<T>,
    ) -> Result<T, Error> {
        // One lock to take an idle instance and mark it busy: this runs on
        // every call.
        let idle = {
            let mut instances = self.instances();
            let idle = instances.idle.pop();
            if let Some(i) = &idle {
                instances.busy.push(i.id);
            }
            idle
        };
        let mut instance = match idle {
            Some(i) => i,
            None => {
                let i = self.instantiate()?;
                self.instances().busy.push(i.id);
                i
            }
        };
        instance.store.set_epoch_deadline(self.deadline_ticks);
        instance.store.data_mut().committed = false;
        instance.store.data_mut().wrote = false;
        let result = f(&instance.bindings, &mut instance.store);
        let mut instances = self.instances();
        if let Some(at) = instances.busy.iter().position(|&id| id == instance.id) {
            instances.busy.swap_remove(at);
        }
        let answer = match result {
            Ok(v) => {
                instances.idle.push(instance);
                Ok(v)
            }
            Err(trap) if instance.store.data().wrote => {
                tracing::warn!(error = %format!("{trap:#}"), "guest trapped after a commit; instance discarded");
                Err(Error::TrapAfterWrite(trap))
            }
            Err(trap) => {
                tracing::warn!(error = %format!("{trap:#}"), "guest trapped; instance discarded");
                Err(Error::Trap(trap))
            }
        };
        if instances.flushers > 0 {
            self.returned.notify_all();
        }
        answer
    }

    /// Flushes every instance's pending statistics: the idle ones at once,
    /// and those in a call when it starts (the ticker's, another request's)
    /// as they return, so the statistics hold every read answered before.
    /// A call that outlasts two call budgets is not waited for further.
    pub fn flush_all(&self) -> Result<(), Error> {
        let mut instances = self.instances();
        let awaited = instances.busy.clone();
        let give_up = Instant::now() + 2 * EPOCH_TICK * self.deadline_ticks as u32;
        loop {
            for instance in instances.idle.iter_mut() {
                instance.store.set_epoch_deadline(self.deadline_ticks);
                instance.store.data_mut().committed = false;
                instance
                    .bindings
                    .nexus_store_maintenance()
                    .call_flush(&mut instance.store)
                    .map_err(Error::Trap)??;
            }
            let left = give_up.saturating_duration_since(Instant::now());
            if left.is_zero() || !instances.busy.iter().any(|id| awaited.contains(id)) {
                return Ok(());
            }
            instances.flushers += 1;
            instances = self
                .returned
                .wait_timeout(instances, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            instances.flushers -= 1;
        }
    }

    pub fn storage(&self) -> &Arc<dyn Backend> {
        &self.storage
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn waiters(&self) -> &Arc<Waiters> {
        &self.waiters
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Err(e) = self.flush_all() {
            tracing::warn!(error = %e, "flushing statistics on close failed");
        }
    }
}
