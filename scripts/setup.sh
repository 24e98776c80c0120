#!/usr/bin/env bash
# One-command setup for LSP on Debian 12: system packages, Bun, JavaScript dependencies, wasm crates, packages.
# Idempotent and quiet: each step checks whether it is already done, and prints only when something is wrong.
# `scripts/setup.sh --with-references` also installs what the benchmarks compare against: numpy on OpenBLAS and
# PyTorch from Debian, and a Python environment with TRL (.venv-references) where pip can reach a package index.
set -euo pipefail

with_references=0
for argument in "$@"; do
  case "$argument" in
    --with-references) with_references=1 ;;
    -h|--help) echo "usage: scripts/setup.sh [--with-references]"; exit 0 ;;
    *) echo "setup: unknown option $argument (known: --with-references)" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log="$(mktemp -t lsp-setup.XXXXXX)"
trap 'rm -f "$log"' EXIT

fail() {
  echo "setup: $1" >&2
  if [ -s "$log" ]; then tail -n 30 "$log" >&2; fi
  exit 1
}

run_quiet() {
  # Runs a command with its output kept in the log, shown only on failure.
  local what="$1"
  shift
  "$@" >"$log" 2>&1 || fail "$what failed; the last lines of its output follow"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    fail "installing system packages needs root: run as root or install sudo"
  fi
}

# --- System packages --------------------------------------------------------------------------------
# Debian's Rust builds wasm32-unknown-unknown (the rustup toolchain here has no wasm32 target);
# libvulkan1 and Mesa's lavapipe from bookworm-backports give WebGPU a CPU adapter (bookworm's Mesa 22 is refused by Dawn).
# librust-unicode-normalization-dev: the tokenizer crate's NFC/NFKC normalizers (crates.io is unreachable).
# libopenblas0-pthread: the CPU backend's matrix products run on OpenBLAS through bun:ffi when it is installed.
apt_packages=(rustc cargo libstd-rust-dev-wasm32 lld libvulkan1 librust-unicode-normalization-dev libopenblas0-pthread)
if [ "$with_references" = 1 ]; then
  # numpy must find OpenBLAS (else it falls back to the reference BLAS at a few GFLOP/s); torch is the model reference.
  apt_packages+=(python3-numpy python3-torch python3-venv)
fi
missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
lavapipe_ok=1
dpkg-query -W -f='${Status} ${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q "install ok installed 2[0-9]\." || lavapipe_ok=0

if [ "${#missing[@]}" -gt 0 ] || [ "$lavapipe_ok" = 0 ]; then
  command -v apt-get >/dev/null || fail "apt-get not found: LSP's setup supports Debian 12 (bookworm); install ${missing[*]} and mesa-vulkan-drivers (25.x) by hand"
  backports=/etc/apt/sources.list.d/lsp-bookworm-backports.sources
  if [ ! -f "$backports" ] && ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    # Same mirror and keyring as the machine's main Debian source, with the backports suite.
    uri="$(grep -hs '^URIs:' /etc/apt/sources.list.d/debian.sources | grep -v security | head -n1 | awk '{print $2}')"
    keyring="$(grep -hs '^Signed-By:' /etc/apt/sources.list.d/debian.sources | head -n1 | awk '{print $2}')"
    uri="${uri:-http://deb.debian.org/debian}"
    keyring="${keyring:-/usr/share/keyrings/debian-archive-keyring.gpg}"
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' "$uri" "$keyring" \
      | as_root tee "$backports" >/dev/null
  fi
  export DEBIAN_FRONTEND=noninteractive
  run_quiet "apt-get update" as_root apt-get update -q
  if [ "${#missing[@]}" -gt 0 ]; then
    run_quiet "apt-get install ${missing[*]}" as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  if [ "$lavapipe_ok" = 0 ]; then
    run_quiet "apt-get install mesa-vulkan-drivers from bookworm-backports" \
      as_root apt-get install -y -q --no-install-recommends -t bookworm-backports mesa-vulkan-drivers
  fi
fi

# --- Bun ----------------------------------------------------------------------------------------------
export PATH="$HOME/.bun/bin:$(npm prefix -g 2>/dev/null)/bin:$PATH"
if ! command -v bun >/dev/null; then
  command -v npm >/dev/null || fail "npm not found: install Node.js 20 or newer first (apt-get install nodejs npm)"
  run_quiet "npm install -g bun" npm install -g --silent bun
fi

# --- JavaScript dependencies, from the committed lockfile ---------------------------------------------
stamp=node_modules/.lsp-install-stamp
if [ ! -f "$stamp" ] || [ bun.lock -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  run_quiet "bun install --frozen-lockfile" bun install --frozen-lockfile
  touch "$stamp"
fi

# --- Crates (wasm32) and packages, through turbo's cache ----------------------------------------------
run_quiet "build (bun run build)" bun run build

# --- References: TRL for bench:selfplay, in its own Python environment ----------------------------------
# Debian has no TRL, and TRL needs a newer torch than Debian's, so it lives in .venv-references. A pip whose
# configured indexes are local folders (file://) is pointed at them alone: trying an unreachable public index
# first costs minutes per package. Without any index the benchmark says TRL was skipped and why.
if [ "$with_references" = 1 ] && ! .venv-references/bin/python -c 'import trl, peft' >/dev/null 2>&1; then
  python="$(command -v python3)"
  index_args=()
  read -r -a extra_indexes <<<"$("$python" -m pip config get global.extra-index-url 2>/dev/null || true)"
  if [ "${#extra_indexes[@]}" -gt 0 ] && [[ "${extra_indexes[0]}" == file://* ]]; then
    index_args=(--index-url "${extra_indexes[0]}")
    for index in "${extra_indexes[@]:1}"; do index_args+=(--extra-index-url "$index"); done
  fi
  if "$python" -m venv .venv-references >"$log" 2>&1 &&
    .venv-references/bin/pip install -q "${index_args[@]}" torch trl transformers accelerate datasets peft >"$log" 2>&1; then
    :
  else
    echo "setup: TRL could not be installed into .venv-references (pip: $(tail -n 1 "$log")); bench:selfplay will skip TRL" >&2
  fi
fi
