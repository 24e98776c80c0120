// The CPU kernels of @lsp/backend-wasm: every DeviceV1 kernel in f32 with SIMD128, one C ABI entry point.
// Memory is imported and shared; the TypeScript loader owns it, so this crate never allocates.
#![no_std]

mod attention;
mod command;
mod elementwise;
mod layers;
mod math;
mod matmul;
mod optim;
mod sample;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

extern "C" {
    // Provided by wasm-ld: the first address past the static data and the main stack.
    static __heap_base: u8;
}

/// The first free byte of memory; the loader allocates tensors, worker stacks and scratch above it.
#[no_mangle]
pub extern "C" fn heap_base() -> u32 {
    unsafe { &__heap_base as *const u8 as u32 }
}

/// Runs work unit `part` of `parts` of the command at `command` (workers claim units one at a time; every
/// split gives bit-identical results). `scratch` is the calling worker's private region of `scratch_bytes`
/// bytes (packing buffers, attention scores, sampling rows). Returns a status (command.rs STATUS_*).
#[no_mangle]
pub unsafe extern "C" fn run_command(command: *const u32, part: u32, parts: u32, scratch: *mut u8, scratch_bytes: u32) -> u32 {
    command::run(command, part as usize, parts as usize, scratch, scratch_bytes as usize)
}
