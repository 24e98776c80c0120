#!/usr/bin/env bash
# The comparison in docs/results.md: LSP, LSP-Zero and GRPO on the built-in world, over several seeds, then
# `lsp compare` on all runs. Usage: scripts/compare-games.sh [iterations] [seeds...]  (default 60 iterations, seeds 0 1 2)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
iterations="${1:-60}"
shift || true
seeds=("$@")
[ "${#seeds[@]}" -gt 0 ] || seeds=(0 1 2)
out="runs/compare-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
runs=()
for game in lsp lsp-zero grpo; do
  for seed in "${seeds[@]}"; do
    dir="$out/$game-seed$seed"
    echo "== $game seed $seed -> $dir"
    bun lsp run --game "$game" --seed "$seed" --iterations "$iterations" --out "$dir" | grep -E '^(held-out|lsp: finished)'
    runs+=("$dir")
  done
done
bun lsp compare "${runs[@]}" --html "$out/comparison.html"
