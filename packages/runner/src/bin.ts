#!/usr/bin/env bun
// Entry point of the `lsp` command (`bun lsp` at the repository root).
import { main } from './cli';

process.exitCode = await main(process.argv.slice(2));
