//! Everything that touches wgpu's instance, adapter and device lives here, so a wgpu upgrade changes
//! one file: adapter discovery and selection, device creation with the adapter's own limits,
//! buffers, pipelines (compiled once per kernel, on first use), submission and read-back.

use std::collections::HashMap;
use std::sync::Mutex;

use wgpu::util::DeviceExt;

use crate::kernels::{Kernel, MatmulVariant};
use crate::{Error, Result};

/// A GPU API wgpu can drive here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpuBackend {
    Vulkan,
    Gl,
}

impl GpuBackend {
    fn flags(backend: Option<GpuBackend>) -> wgpu::Backends {
        match backend {
            Some(GpuBackend::Vulkan) => wgpu::Backends::VULKAN,
            Some(GpuBackend::Gl) => wgpu::Backends::GL,
            None => wgpu::Backends::VULKAN | wgpu::Backends::GL,
        }
    }

    fn name(backend: Option<GpuBackend>) -> &'static str {
        match backend {
            Some(GpuBackend::Vulkan) => "vulkan",
            Some(GpuBackend::Gl) => "gl",
            None => "vulkan or gl",
        }
    }
}

/// Which adapter to open.
#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    /// Restrict to one API; `None` tries Vulkan and GL.
    pub backend: Option<GpuBackend>,
    /// An index into [`list_adapters`]' order, or a case-insensitive part of the adapter's name.
    /// `None` picks the best: discrete, then integrated, then virtual, then CPU (lavapipe).
    pub adapter: Option<String>,
    /// Overrides the matmul kernel chosen by adapter type (tests and benchmarks compare both).
    pub matmul: Option<MatmulVariant>,
    /// Caps the bytes of one data chunk below the device's storage-binding limit: the
    /// classifier's data, a language model's logits, token-table blocks and attention
    /// probabilities (tests use it to exercise chunking on small data).
    pub max_chunk_bytes: Option<u64>,
}

/// What `gpu-worker info` prints about one adapter.
#[derive(Clone, Debug, PartialEq)]
pub struct AdapterReport {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroup_storage_size: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_storage_buffers_per_shader_stage: u32,
}

impl AdapterReport {
    fn new(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        let limits = adapter.limits();
        AdapterReport {
            name: info.name,
            backend: format!("{:?}", info.backend).to_lowercase(),
            device_type: format!("{:?}", info.device_type),
            driver: info.driver,
            driver_info: info.driver_info,
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
            max_buffer_size: limits.max_buffer_size,
            max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
            max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_storage_buffers_per_shader_stage: limits.max_storage_buffers_per_shader_stage,
        }
    }
}

fn instance(backend: Option<GpuBackend>) -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = GpuBackend::flags(backend);
    desc.flags = wgpu::InstanceFlags::default().with_env();
    wgpu::Instance::new(desc)
}

fn rank(device_type: wgpu::DeviceType) -> u8 {
    match device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

fn adapters(instance: &wgpu::Instance, backend: Option<GpuBackend>) -> Vec<wgpu::Adapter> {
    let mut found = pollster::block_on(instance.enumerate_adapters(GpuBackend::flags(backend)));
    // Compute shaders are all we need; GL adapters without them are useless here.
    found.retain(|a| a.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS));
    // Stable order: best device type first, Vulkan before GL, then by name.
    found.sort_by_key(|a| {
        let info = a.get_info();
        (rank(info.device_type), info.backend != wgpu::Backend::Vulkan, info.name)
    });
    found
}

fn no_adapter(backend: Option<GpuBackend>) -> Error {
    Error::NoAdapter {
        backend: GpuBackend::name(backend).to_string(),
        hint: "no GPU driver and no lavapipe: install mesa-vulkan-drivers libvulkan1 (and libegl1 \
               libgl1-mesa-dri for gl), or use --backend cpu-reference"
            .to_string(),
    }
}

/// The adapters that [`Gpu::new`] can open, best first.
pub fn list_adapters(backend: Option<GpuBackend>) -> Result<Vec<AdapterReport>> {
    let found = adapters(&instance(backend), backend);
    if found.is_empty() {
        return Err(no_adapter(backend));
    }
    Ok(found.iter().map(AdapterReport::new).collect())
}

/// An open device with its queue and compiled pipelines.
pub struct Gpu {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) report: AdapterReport,
    matmul: MatmulVariant,
    chunk_bytes: u64,
    pipelines: Mutex<HashMap<Kernel, wgpu::ComputePipeline>>,
}

impl Gpu {
    /// Opens the selected adapter with all of its limits (the WebGPU defaults would cap workgroup
    /// memory at 16 KiB and storage bindings at 128 MiB even where the device has more).
    pub fn new(options: &GpuOptions) -> Result<Gpu> {
        let instance = instance(options.backend);
        let found = adapters(&instance, options.backend);
        if found.is_empty() {
            return Err(no_adapter(options.backend));
        }
        let adapter = match &options.adapter {
            None => &found[0],
            Some(selector) => select(&found, selector)?,
        };
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("gpu-worker"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| Error::Gpu(format!("cannot open {}: {e}", adapter.get_info().name)))?;
        let is_cpu = adapter.get_info().device_type == wgpu::DeviceType::Cpu;
        let binding = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        Ok(Gpu {
            matmul: options.matmul.unwrap_or(MatmulVariant::for_adapter(is_cpu)),
            chunk_bytes: options.max_chunk_bytes.map_or(binding, |c| c.min(binding)),
            device,
            queue,
            report: AdapterReport::new(adapter),
            pipelines: Mutex::new(HashMap::new()),
        })
    }

    /// The adapter this device runs on.
    pub fn adapter(&self) -> &AdapterReport {
        &self.report
    }

    /// The matmul kernel this device runs.
    pub fn matmul_variant(&self) -> MatmulVariant {
        self.matmul
    }

    /// The most bytes of features one data chunk holds (one storage binding, or the override).
    pub(crate) fn chunk_bytes(&self) -> u64 {
        self.chunk_bytes
    }

    pub(crate) fn pipeline(&self, kernel: Kernel) -> wgpu::ComputePipeline {
        let mut cache = self.pipelines.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(kernel)
            .or_insert_with(|| {
                let (source, entry) = kernel.source();
                let module = self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(entry),
                    source: wgpu::ShaderSource::Wgsl(source.into()),
                });
                self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(entry),
                    layout: None,
                    module: &module,
                    entry_point: Some(entry),
                    compilation_options: Default::default(),
                    cache: None,
                })
            })
            .clone()
    }

    /// A storage buffer holding `contents` (at least 4 bytes, so that empty tensors can still be
    /// bound).
    pub(crate) fn storage_init(&self, label: &str, contents: &[u8]) -> wgpu::Buffer {
        let mut padded;
        let mut contents = contents;
        if !contents.len().is_multiple_of(4) || contents.is_empty() {
            padded = contents.to_vec();
            padded.resize(contents.len().max(4).next_multiple_of(4), 0);
            contents = &padded;
        }
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        })
    }

    /// A zero-filled storage buffer of `bytes` bytes (rounded up to 4, at least 4).
    pub(crate) fn storage_zeroed(&self, label: &str, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes.max(4).next_multiple_of(4),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    pub(crate) fn uniform(&self, words: &[u32]) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: bytemuck::cast_slice(words),
            usage: wgpu::BufferUsages::UNIFORM,
        })
    }

    pub(crate) fn encoder(&self) -> wgpu::CommandEncoder {
        self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None })
    }

    pub(crate) fn submit(&self, encoder: wgpu::CommandEncoder) {
        self.queue.submit([encoder.finish()]);
    }

    /// Copies `count` elements from `buffer` (starting at element `first`) back to the host; waits
    /// for all submitted work.
    pub(crate) fn read<T: bytemuck::Pod>(&self, buffer: &wgpu::Buffer, first: usize, count: usize) -> Result<Vec<T>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let size = (count * size_of::<T>()) as u64;
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read-back"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.encoder();
        encoder.copy_buffer_to_buffer(buffer, (first * size_of::<T>()) as u64, &staging, 0, size);
        self.submit(encoder);
        let (tx, rx) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the device: {e}")))?;
        rx.recv()
            .map_err(|_| Error::Gpu("read-back was dropped".into()))?
            .map_err(|e| Error::Gpu(format!("mapping a buffer for read-back: {e}")))?;
        let view = staging.get_mapped_range(..).map_err(|e| Error::Gpu(format!("mapped range: {e}")))?;
        let out = bytemuck::cast_slice::<u8, T>(&view).to_vec();
        drop(view);
        staging.unmap();
        Ok(out)
    }
}

fn select<'a>(found: &'a [wgpu::Adapter], selector: &str) -> Result<&'a wgpu::Adapter> {
    let by_index = selector.parse::<usize>().ok().and_then(|i| found.get(i));
    let wanted = selector.to_lowercase();
    by_index.or_else(|| found.iter().find(|a| a.get_info().name.to_lowercase().contains(&wanted))).ok_or_else(|| {
        Error::AdapterNotFound {
            selector: selector.to_string(),
            available: found
                .iter()
                .enumerate()
                .map(|(i, a)| format!("{i}: {} ({:?})", a.get_info().name, a.get_info().backend))
                .collect(),
        }
    })
}
