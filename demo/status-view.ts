/**
 * The demo's live status table: one row per credential, redrawn in place on a terminal (ANSI
 * cursor-up and clear), printed as plain lines every few seconds otherwise (a pipe, a CI log).
 * Times are relative to the simulated clock. Never shows a token.
 */

import { expiryTime, formatDuration, relativeTime } from '../cli/format-duration';
import { terminalRows } from '../cli/status-report';
import { renderTable, type TableColumn } from '../cli/table';
import type { OutputStream, Palette } from '../cli/terminal';

/** One row of the table. */
export interface CredentialRow {
  credential: string;
  /** Issuer kind of the current token (`sirv`, `oauth2`, `header-jwt`, `signed-jwt`…). */
  issuer: string | null;
  generation: number | null;
  expiresAt: string | null;
  refreshAfter: string | null;
  /** Tokens the rotator wrote since `pulumi up` wrote the first one. */
  refreshes: number;
  /** Reads by the workload. */
  reads: number;
  /** Code of the last failure the rotator or the workload saw, if any. */
  lastError: string | null;
}

/** What one frame shows above the table. */
export interface FrameHeader {
  simulatedNow: Date;
  speed: number;
  realElapsedSeconds: number;
  realDurationSeconds: number;
}

const COLUMNS: TableColumn[] = [
  { header: 'CREDENTIAL' },
  { header: 'ISSUER' },
  { header: 'GENERATION', align: 'right' },
  { header: 'EXPIRES' },
  { header: 'REFRESH AFTER' },
  { header: 'REFRESHES', align: 'right' },
  { header: 'READS', align: 'right' },
  { header: 'LAST ERROR' },
];

/** The frame as lines: a header line, then the table. */
export function renderFrame(rows: readonly CredentialRow[], header: FrameHeader, colour: Palette): string[] {
  const now = header.simulatedNow;
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const title = colour.dim(
    `simulated ${stamp} (×${header.speed}) · ${formatDuration(header.realElapsedSeconds)} of ` +
      `${formatDuration(header.realDurationSeconds)} real · Ctrl-C to stop`,
  );
  const table = renderTable(
    COLUMNS,
    rows.map((r) => {
      const expiresAt = r.expiresAt ? new Date(r.expiresAt) : undefined;
      const expired = expiresAt !== undefined && expiresAt.getTime() <= now.getTime();
      const expiry = expiresAt ? expiryTime(expiresAt, now) : '-';
      return [
        r.credential,
        r.issuer ?? '-',
        r.generation === null ? '-' : String(r.generation),
        expired ? colour.red(expiry) : expiry,
        r.refreshAfter ? relativeTime(new Date(r.refreshAfter), now) : '-',
        r.refreshes > 0 ? colour.green(String(r.refreshes)) : String(r.refreshes),
        String(r.reads),
        r.lastError ? colour.yellow(r.lastError) : '-',
      ];
    }),
  );
  return [title, ...table];
}

/**
 * Writes frames to `stream`: on a terminal each frame replaces the previous one; elsewhere a frame
 * is printed at most every `plainIntervalMs` (and always when {@link LiveStatusView.show} is forced).
 */
export class LiveStatusView {
  private previousRows = 0;
  private lastPlainAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly stream: OutputStream,
    private readonly colour: Palette,
    private readonly plainIntervalMs = 10_000,
    private readonly realNowMs: () => number = () => performance.now(),
  ) {}

  /** True when frames are redrawn in place. */
  get live(): boolean {
    return this.stream.isTTY === true;
  }

  /** Shows a frame (on a pipe only when the interval has passed, or when `force`). */
  show(rows: readonly CredentialRow[], header: FrameHeader, force = false): void {
    const lines = renderFrame(rows, header, this.colour);
    if (this.live) {
      const erase = this.previousRows > 0 ? `\u001b[${this.previousRows}F\u001b[0J` : '';
      this.stream.write(`${erase}${lines.join('\n')}\n`);
      this.previousRows = terminalRows(lines, this.stream.columns);
      return;
    }
    const now = this.realNowMs();
    if (!force && now - this.lastPlainAt < this.plainIntervalMs) return;
    this.lastPlainAt = now;
    this.stream.write(`${lines.join('\n')}\n\n`);
  }

  /** Prints a line above the table (an event): the table is redrawn below it by the next frame. */
  note(line: string): void {
    if (this.live && this.previousRows > 0) {
      this.stream.write(`\u001b[${this.previousRows}F\u001b[0J${line}\n`);
      this.previousRows = 0;
      return;
    }
    this.stream.write(`${line}\n`);
  }

  /** Leaves the last frame on screen; later output starts below it. */
  release(): void {
    this.previousRows = 0;
  }
}
