/** What every benchmark receives from bench/run.ts and gives back. */
import type { MotoServer } from '../local-stack/moto';
import type { BenchRow } from './table';

/** The shared servers and the progress channel of one run. */
export interface BenchContext {
  /** The moto server of this run; `AWS_ENDPOINT_URL` points at it. */
  moto: MotoServer;
  /** Prints a progress line to stderr. */
  progress(message: string): void;
}

/** Rows for the table, and raw figures for bench/results.json. */
export interface BenchOutcome {
  rows: BenchRow[];
  details: Record<string, unknown>;
}
