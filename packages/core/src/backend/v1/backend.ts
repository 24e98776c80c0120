// A backend component: how a plugin contributes a compute device.
import type { DeviceV1 } from './device';

export interface BackendAvailability {
  available: boolean;
  /** When unavailable: why, and what to install. */
  reason?: string;
  /**
   * Available, but only as an emulation on the CPU (a GPU API over lavapipe or SwiftShader): usable when named,
   * passed over by `auto`, since the CPU backend is faster there. `reason` says what the emulation is.
   */
  cpuEmulation?: boolean;
}

export interface BackendV1 {
  readonly specificationVersion: 'v1';
  /** Short name used on the command line: `--backend wasm`. */
  readonly name: string;
  /** Higher wins when the backend is chosen by `auto` (a GPU backend ranks above the CPU one). */
  readonly priority: number;
  /** Cheap probe; never throws. */
  checkAvailability(): Promise<BackendAvailability>;
  createDevice(options?: Record<string, unknown>): Promise<DeviceV1>;
  /** Facts for `lsp doctor` (adapters, features, limits, threads). */
  describe?(): Promise<Record<string, unknown>>;
}
