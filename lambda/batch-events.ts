/**
 * The `refresh-batch` events of a sweep's fan-out: the names of a batch, split so that no event
 * passes {@link MAX_BATCH_PAYLOAD_BYTES}, each with its share of the sweep's write rate. An event
 * carries names only, never a state: each refresh describes its token secret itself, so a batch
 * delivered twice or late (Lambda's asynchronous invocations arrive at least once) finds the
 * tokens already refreshed and writes nothing.
 */
import { MAX_BATCH_PAYLOAD_BYTES, type RotatorEvent } from '../core/rotator-protocol';

/** One fan-out event, encoded, and the credentials it hands off. */
export interface BatchEvent {
  credentials: string[];
  payload: Uint8Array;
}

/** What every event of a sweep's fan-out shares. */
export interface BatchEventOptions {
  /** The write rate of a batch of this many credentials (its share of the sweep's). */
  share: (size: number) => number | undefined;
  /** Default {@link MAX_BATCH_PAYLOAD_BYTES}. */
  maxBytes?: number | undefined;
}

const encoder = new TextEncoder();

// Bytes of a batch event besides its names, with room to spare: the action, the keys, a write
// rate of up to 24 characters.
const ENVELOPE_BYTES = 128;

/**
 * The `refresh-batch` events for one batch: every name once, over as few events as keep each
 * within `maxBytes` (one, unless the batch is in the thousands).
 *
 * @example
 * ```ts
 * for (const e of batchEvents(names, { share })) await invoke(e.payload);
 * ```
 */
export function batchEvents(names: readonly string[], options: BatchEventOptions): BatchEvent[] {
  const maxBytes = options.maxBytes ?? MAX_BATCH_PAYLOAD_BYTES;
  const groups: string[][] = [];
  let current: string[] = [];
  let bytes = ENVELOPE_BYTES;
  for (const name of names) {
    // `"name",` in credentials.
    const entryBytes = encoder.encode(JSON.stringify(name)).length + 1;
    if (current.length > 0 && bytes + entryBytes > maxBytes) {
      groups.push(current);
      current = [];
      bytes = ENVELOPE_BYTES;
    }
    current.push(name);
    bytes += entryBytes;
  }
  if (current.length > 0) groups.push(current);
  return groups.map((credentials) => {
    const event: RotatorEvent = {
      action: 'refresh-batch',
      credentials,
      writesPerSecond: options.share(credentials.length),
    };
    return { credentials, payload: encoder.encode(JSON.stringify(event)) };
  });
}
