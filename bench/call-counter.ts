/**
 * Counts the AWS calls a client sends, by command name, with a middleware at the `initialize`
 * step (once per `send`, before retries: a retried call counts once).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Calls sent so far, by command name (`ListSecretsCommand`, …). */
export interface CallCounts {
  byCommand: Record<string, number>;
  total(): number;
  /** Calls of one command (`GetSecretValueCommand`), 0 when none. */
  of(command: string): number;
  reset(): void;
}

/** Adds a counting middleware to `client` and returns its counts. */
export function countCalls(client: SecretsManagerClient): CallCounts {
  const counts: CallCounts = {
    byCommand: {},
    total: () => Object.values(counts.byCommand).reduce((a, b) => a + b, 0),
    of: (command) => counts.byCommand[command] ?? 0,
    reset: () => {
      counts.byCommand = {};
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'UnknownCommand';
      counts.byCommand[command] = (counts.byCommand[command] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCallCounter' },
  );
  return counts;
}
