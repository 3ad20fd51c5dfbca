/**
 * What the CLI writes to: an output stream (process.stdout, or a buffer in tests) and the colours
 * it may use on it. Colour only on a TTY, never when `NO_COLOR` is set (no-color.org) or the
 * terminal is `dumb`.
 */

/** The part of a writable stream the CLI uses; `process.stdout` and `process.stderr` are ones. */
export interface OutputStream {
  write(chunk: string): unknown;
  /** True when the stream is a terminal: colour, progress and in-place redraws are allowed. */
  isTTY?: boolean | undefined;
  /** Terminal width, when known. */
  columns?: number | undefined;
}

/** Styles for text; every one is the identity when colour is off. */
export interface Palette {
  enabled: boolean;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

/** Whether `stream` may receive colour, given the environment. */
export function colourAllowed(stream: OutputStream, env: NodeJS.ProcessEnv): boolean {
  if (stream.isTTY !== true) return false;
  // no-color.org: set to any non-empty value, it disables colour.
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}

function sgr(open: number, close: number): (text: string) => string {
  return (text) => `\u001b[${open}m${text}\u001b[${close}m`;
}

const identity = (text: string): string => text;

/** A palette that colours when `enabled`, and passes text through unchanged otherwise. */
export function palette(enabled: boolean): Palette {
  if (!enabled) return { enabled, red: identity, yellow: identity, green: identity, dim: identity, bold: identity };
  return { enabled, red: sgr(31, 39), yellow: sgr(33, 39), green: sgr(32, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

// ECMA-48 CSI sequences, enough for what palette() and the redraws emit.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');

/** `text` without colour sequences: what a reader sees, for measuring widths. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
