// The learning-rate schedule: linear warmup, then a cosine decay to a floor over the run's progress, where
// progress is whichever budget (steps or time) is further spent, so a time-capped run still anneals.

export interface ScheduleOptions {
  peakLearningRate: number;
  warmupSteps: number;
  /** The floor as a fraction of the peak. */
  finalFraction: number;
}

/** Learning rate of optimizer step `step` (0-based) at `progress` in [0, 1] of the run. */
export function learningRateAt(options: ScheduleOptions, step: number, progress: number): number {
  if (step < options.warmupSteps) return (options.peakLearningRate * (step + 1)) / options.warmupSteps;
  const floor = options.peakLearningRate * options.finalFraction;
  const clamped = Math.min(1, Math.max(0, progress));
  return floor + (options.peakLearningRate - floor) * 0.5 * (1 + Math.cos(Math.PI * clamped));
}
