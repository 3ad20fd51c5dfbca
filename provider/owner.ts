/**
 * The owner tag of a credential's secrets: the identity of the resource that made them, so that
 * an `up` retried after a killed one adopts its own secrets and refuses anyone else's.
 */
import { createHash } from 'node:crypto';

/** Secrets Manager tag values: at most 256 characters of letters, digits, spaces and `_.:/=+-@`. */
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u;

/**
 * The tag value for a resource URN: the URN itself when Secrets Manager accepts it as a tag value,
 * else (a long URN, or one with `$` from a parent chain) `sha256:` and the hex digest of it.
 */
export function ownerTagValue(urn: string): string {
  return TAG_VALUE.test(urn) ? urn : `sha256:${createHash('sha256').update(urn).digest('hex')}`;
}
