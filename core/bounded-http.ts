/**
 * Reading an untrusted HTTP answer within bounds: at most so many bytes (counted after
 * decompression), strict UTF-8, a timeout even for a `fetch` that ignores its signal, and URLs
 * shown without query or secrets. Shared by the issuers (token answers) and the reader (Sirv's
 * protected-URL answers).
 */
import { redact } from './redact';

/**
 * The most an issuer answer may hold, counted after decompression: a token answer is a few
 * kilobytes, and the rotator Lambda has 256 MiB for a whole sweep.
 */
export const MAX_ANSWER_BYTES = 256 * 1024;

/** What {@link readBoundedBody} read. */
export interface BoundedBody {
  bytes: Uint8Array;
  /** True when the answer went on past the limit (and was cut off there). */
  truncated: boolean;
}

/**
 * Reads at most `maxBytes` of a body as it streams in (decompressed by the HTTP client), then
 * cancels the rest: an endless stream or a decompression bomb costs `maxBytes`, not the Lambda.
 */
export async function readBoundedBody(
  response: Response,
  maxBytes: number,
  signal?: AbortSignal | undefined,
): Promise<BoundedBody> {
  if (response.body === null) return { bytes: new Uint8Array(0), truncated: false };
  const reader = response.body.getReader();
  const cancel = () => {
    reader.cancel().catch(() => {});
  };
  signal?.addEventListener('abort', cancel, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes: concat(chunks, size), truncated: false };
      const room = maxBytes - size;
      if (value.byteLength > room) {
        chunks.push(value.subarray(0, room));
        cancel();
        return { bytes: concat(chunks, maxBytes), truncated: true };
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** The bytes as UTF-8 text, or `undefined` when they are not valid UTF-8 (never replacement characters). */
export function decodeStrictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Where a 3xx answer points, as {@link safeUrl} shows it (origin and path, redacted), or `''`
 * when it has no usable `Location`.
 */
export function redirectTarget(headers: Headers, requestUrl: string, secrets: readonly string[]): string {
  const location = headers.get('location');
  return location && URL.canParse(location, requestUrl) ? safeUrl(new URL(location, requestUrl).href, secrets) : '';
}

/** Decodes a failure's body for quoting only: replacement characters are harmless there. */
export function decodeLenient(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

/**
 * Origin and path only (a query string may carry a key), redacted like any upstream text: a
 * redirect's `Location` is the issuer's to choose, and may echo the client secret in its path.
 */
export function safeUrl(url: string, secrets: readonly string[] = []): string {
  if (!URL.canParse(url)) return '(unparseable URL)';
  const parsed = new URL(url);
  return redact(`${parsed.origin}${parsed.pathname}`, secrets);
}

/** Races a promise against the timeout signal, so a `fetch` that ignores its signal still times out. */
export function untilAborted<T>(start: () => Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(start)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}
