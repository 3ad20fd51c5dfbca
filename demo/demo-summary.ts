/**
 * The demo's closing summary: per credential what the rotator and the workload did, the totals,
 * the protected URL, how the stack was torn down, and the problems that make the run fail. The
 * JSON form (`--json-summary`) is {@link DemoSummary} as is; it holds no token and no secret.
 */
import { formatDuration } from '../cli/format-duration';
import { renderTable, type TableColumn } from '../cli/table';
import type { Palette } from '../cli/terminal';

/** One credential's line of the summary. */
export interface CredentialSummary {
  credential: string;
  issuer: string | null;
  /** Tokens the rotator wrote after the first one (`pulumi up`'s). */
  refreshes: number;
  /** The generation of the last token seen. */
  generation: number | null;
  reads: number;
  expiredReads: number;
  /** Failed refreshes, reads and API calls. */
  errors: number;
}

/** How far the demo got. */
export type DemoOutcome = 'completed' | 'interrupted' | 'setup-failed';

/** Everything the demo reports at the end. */
export interface DemoSummary {
  outcome: DemoOutcome;
  /** The secret name prefix the demo's credentials lived under. */
  prefix: string;
  speed: number;
  /** Real seconds the accelerated run lasted (0 when it never started). */
  realSeconds: number;
  /** Simulated seconds it covered. */
  simulatedSeconds: number;
  /** Scheduled rotator invocations. */
  sweeps: number;
  credentials: CredentialSummary[];
  totals: { refreshes: number; reads: number; expiredReads: number; errors: number };
  protectedUrl: { created: number; failed: number; example: string | null };
  stack: {
    up: 'succeeded' | 'failed' | 'cancelled' | 'not run';
    destroy: 'succeeded' | 'failed' | 'not run';
    /** Secrets left under the prefix after destroy (`null` when not checked). */
    secretsLeft: number | null;
  };
  /** Real seconds per phase. */
  timings: { setup: number; up: number; run: number; destroy: number };
  /** Why the run counts as failed; empty when it succeeded. */
  problems: string[];
}

/** Totals of the credential lines. */
export function totalsOf(credentials: readonly CredentialSummary[]): DemoSummary['totals'] {
  const sum = (pick: (c: CredentialSummary) => number) => credentials.reduce((n, c) => n + pick(c), 0);
  return {
    refreshes: sum((c) => c.refreshes),
    reads: sum((c) => c.reads),
    expiredReads: sum((c) => c.expiredReads),
    errors: sum((c) => c.errors),
  };
}

/**
 * The problems of a completed run (exit code 4 when there is any): a credential never refreshed,
 * an expired read, an error, no protected URL, a failed destroy, secrets left behind.
 */
export function problemsOf(summary: Omit<DemoSummary, 'problems'>): string[] {
  const problems: string[] = [];
  if (summary.outcome === 'completed') {
    const stale = summary.credentials.filter((c) => c.refreshes === 0).map((c) => c.credential);
    if (stale.length > 0) {
      problems.push(
        `never refreshed: ${stale.join(', ')} (a longer --duration or a higher --speed gives the rotator time to)`,
      );
    }
    if (summary.protectedUrl.created === 0) problems.push('no Sirv protected URL was created');
  }
  if (summary.totals.expiredReads > 0) problems.push(`${summary.totals.expiredReads} read(s) found an expired token`);
  if (summary.totals.errors > 0) problems.push(`${summary.totals.errors} error(s) during the run`);
  if (summary.stack.destroy === 'failed') problems.push('pulumi destroy failed');
  if (summary.stack.secretsLeft !== null && summary.stack.secretsLeft > 0) {
    problems.push(`${summary.stack.secretsLeft} secret(s) left under ${summary.prefix}`);
  }
  return problems;
}

const COLUMNS: TableColumn[] = [
  { header: 'CREDENTIAL' },
  { header: 'ISSUER' },
  { header: 'REFRESHES', align: 'right' },
  { header: 'GENERATION', align: 'right' },
  { header: 'READS', align: 'right' },
  { header: 'EXPIRED READS', align: 'right' },
  { header: 'ERRORS', align: 'right' },
];

/** The summary as lines of text. */
export function renderSummary(summary: DemoSummary, colour: Palette): string[] {
  const t = summary.timings;
  const lines = [
    colour.bold(
      `Summary: ${formatDuration(summary.realSeconds)} real = ${formatDuration(summary.simulatedSeconds)} simulated ` +
        `at ×${summary.speed}, ${summary.sweeps} sweeps`,
    ),
    ...renderTable(COLUMNS, [
      ...summary.credentials.map((c) => [
        c.credential,
        c.issuer ?? '-',
        String(c.refreshes),
        c.generation === null ? '-' : String(c.generation),
        String(c.reads),
        c.expiredReads > 0 ? colour.red(String(c.expiredReads)) : '0',
        c.errors > 0 ? colour.red(String(c.errors)) : '0',
      ]),
      [
        'total',
        '',
        String(summary.totals.refreshes),
        '',
        String(summary.totals.reads),
        String(summary.totals.expiredReads),
        String(summary.totals.errors),
      ],
    ]),
    `Sirv protected URL: ${summary.protectedUrl.example ?? 'none'} (${summary.protectedUrl.created} created, ${summary.protectedUrl.failed} failed)`,
    `pulumi up: ${summary.stack.up}; pulumi destroy: ${summary.stack.destroy}; secrets left under ${summary.prefix}: ${summary.stack.secretsLeft ?? 'not checked'}`,
    `Timings: setup ${seconds(t.setup)}, pulumi up ${seconds(t.up)}, run ${seconds(t.run)}, pulumi destroy ${seconds(t.destroy)}`,
  ];
  if (summary.outcome === 'interrupted')
    lines.push(colour.yellow('Interrupted: everything the demo started was cleaned up.'));
  else if (summary.problems.length === 0)
    lines.push(colour.green('OK: every credential was refreshed, no read found an expired token, no errors.'));
  else lines.push(...summary.problems.map((p) => colour.red(`Problem: ${p}`)));
  return lines;
}

function seconds(value: number): string {
  return `${value.toFixed(1)}s`;
}
