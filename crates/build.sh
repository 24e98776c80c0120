#!/usr/bin/env bash
# Builds every crate to wasm32-unknown-unknown and copies the modules into crates/wasm/<crate>.wasm.
# Crates listed in shared_memory_crates are no_std kernel crates linked against one shared, imported
# WebAssembly.Memory so several Bun workers can run them on the same buffers (DESIGN.md section 3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

export RUSTC=/usr/bin/rustc
cargo=/usr/bin/cargo
if [ ! -x "$cargo" ] || [ ! -x "$RUSTC" ]; then
  echo "crates: Debian's cargo and rustc are missing; run scripts/setup.sh (apt-get install rustc cargo libstd-rust-dev-wasm32 lld)" >&2
  exit 1
fi

plain_crates=(tokenizer advantage)
shared_memory_crates=(kernels)
# Maximum shared memory for the kernel crates: 4 GiB (the wasm32 limit).
max_memory=4294967296

mkdir -p wasm
build() {
  local crate="$1" target_dir="$2" flags="$3"
  CARGO_TARGET_DIR="$target_dir" RUSTFLAGS="$flags" "$cargo" build --quiet --release \
    --target wasm32-unknown-unknown -p "$crate"
  cp "$target_dir/wasm32-unknown-unknown/release/${crate//-/_}.wasm" "wasm/$crate.wasm"
}
for crate in "${plain_crates[@]}"; do
  build "$crate" target/plain "-C target-feature=+simd128,+bulk-memory"
done
for crate in "${shared_memory_crates[@]}"; do
  build "$crate" target/shared "-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 \
-C link-arg=--import-memory -C link-arg=--shared-memory -C link-arg=--max-memory=$max_memory \
-C link-arg=--export=__stack_pointer"
done
