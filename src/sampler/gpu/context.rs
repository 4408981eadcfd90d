//! The wgpu adapter, device and queue, and turning wgpu failures into [`Error::Gpu`].

use std::sync::{Arc, Mutex};

use crate::error::Error;

/// An open device plus what the sampler needs to know about it.
pub struct Context {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// Whether the device has timestamp queries (for timing the sampling passes).
    pub timestamps: bool,
    /// Set by the device-lost callback and by uncaptured errors; checked after each wait.
    failure: Arc<Mutex<Option<String>>>,
}

impl Context {
    /// Picks an adapter (honouring `WGPU_BACKEND`, `WGPU_ADAPTER_NAME`, `WGPU_POWER_PREF`) and
    /// opens a device with the adapter's largest buffer and dispatch limits.
    /// With `require_hardware`, a software adapter (llvmpipe, WARP, ...) is an error.
    pub fn new(require_hardware: bool) -> Result<Self, Error> {
        let adapter = find_adapter()?;
        let info = adapter.get_info();
        if require_hardware && info.device_type == wgpu::DeviceType::Cpu {
            return Err(Error::Gpu(format!(
                "only a software adapter is available ({}, {:?})",
                info.name, info.backend
            )));
        }
        let available = adapter.limits();
        let required = wgpu::Limits {
            max_storage_buffer_binding_size: available.max_storage_buffer_binding_size,
            max_buffer_size: available.max_buffer_size,
            max_compute_workgroups_per_dimension: available.max_compute_workgroups_per_dimension,
            max_storage_buffers_per_shader_stage: 8.min(available.max_storage_buffers_per_shader_stage),
            max_compute_workgroup_size_x: 256,
            max_compute_invocations_per_workgroup: 256,
            ..wgpu::Limits::downlevel_defaults()
        };
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("rso"),
            required_features: if timestamps { wgpu::Features::TIMESTAMP_QUERY } else { wgpu::Features::empty() },
            required_limits: required.clone(),
            ..Default::default()
        }))
        .map_err(|e| Error::Gpu(format!("cannot open a device on {} ({:?}): {e}", info.name, info.backend)))?;

        let failure = Arc::new(Mutex::new(None));
        let lost = failure.clone();
        device.set_device_lost_callback(move |reason, message| {
            let mut slot = lost.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(format!("device lost ({reason:?}): {message}"));
        });
        let uncaptured = failure.clone();
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            let mut slot = uncaptured.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(error.to_string());
        }));
        Ok(Self { device, queue, info, limits: required, timestamps, failure })
    }

    /// Whether the adapter is a real GPU rather than a CPU implementation.
    pub fn is_hardware(&self) -> bool {
        self.info.device_type != wgpu::DeviceType::Cpu
    }

    /// Runs `f` inside error scopes for validation, out-of-memory and internal errors, and
    /// reports the first error raised as [`Error::Gpu`] with `what` as context.
    pub fn scoped<T>(&self, what: &str, f: impl FnOnce() -> T) -> Result<T, Error> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let internal = self.device.push_error_scope(wgpu::ErrorFilter::Internal);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = f();
        let errors = [validation.pop(), internal.pop(), oom.pop()];
        for scope in errors {
            if let Some(error) = pollster::block_on(scope) {
                return Err(Error::Gpu(format!("{what}: {}", describe_error(&error))));
            }
        }
        self.check()?;
        Ok(value)
    }

    /// Waits until the queue is idle.
    pub fn wait(&self) -> Result<(), Error> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the device: {e}")))?;
        self.check()
    }

    /// Fails if the device was lost or raised an error outside any scope.
    pub fn check(&self) -> Result<(), Error> {
        match self.failure.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            Some(message) => Err(Error::Gpu(message)),
            None => Ok(()),
        }
    }

    /// Copies `size` bytes of `buffer` (which needs COPY_SRC) back to the host.
    pub fn read_back(&self, buffer: &wgpu::Buffer, size: u64) -> Result<Vec<u8>, Error> {
        if size == 0 {
            return Ok(Vec::new());
        }
        let staging = self.scoped("allocating a read-back buffer", || {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("read back"),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        })?;
        self.scoped("copying results", || {
            let mut encoder = self.device.create_command_encoder(&Default::default());
            encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
            self.queue.submit([encoder.finish()]);
        })?;
        self.map_read(&staging, size)
    }

    /// Maps a MAP_READ buffer and copies out its first `size` bytes.
    pub fn map_read(&self, staging: &wgpu::Buffer, size: u64) -> Result<Vec<u8>, Error> {
        let (sender, receiver) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, ..size, move |result| {
            let _ = sender.send(result);
        });
        self.wait()?;
        match receiver.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Error::Gpu(format!("mapping results: {e}"))),
            Err(_) => return Err(Error::Gpu("mapping results: the map callback never ran".into())),
        }
        let bytes = {
            let view = staging
                .get_mapped_range(..size)
                .map_err(|e| Error::Gpu(format!("reading mapped results: {e}")))?;
            view.to_vec()
        };
        staging.unmap();
        Ok(bytes)
    }
}

/// The adapter the sampler would use.
pub fn find_adapter() -> Result<wgpu::Adapter, Error> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle().with_env());
    pollster::block_on(wgpu::util::initialize_adapter_from_env_or_default(&instance, None))
        .map_err(|e| Error::Gpu(format!("no GPU adapter found ({e}); use --backend cpu")))
}

fn describe_error(error: &wgpu::Error) -> String {
    match error {
        wgpu::Error::OutOfMemory { .. } => "out of GPU memory".to_string(),
        other => other.to_string(),
    }
}
