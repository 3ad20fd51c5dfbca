/**
 * The demo's workload: what a service using token-rotator does. Every tick it reads each
 * credential's token through {@link TokenReader} (cached until `refreshAfter`, never expired) and
 * asks the Sirv fake for a JWT-protected URL with the Sirv token. It counts what it sees; it never
 * keeps or prints a token.
 */
import { isTokenRotatorError } from '../core/errors';
import { createProtectedUrl, type TokenReader } from '../reader';

/** What the workload saw of one credential. */
export interface WorkloadCounts {
  reads: number;
  /** Reads that found no valid token (the reader's `TokenExpiredError`, or a token past `expiresAt`). */
  expiredReads: number;
  /** Reads and API calls that failed for any other reason. */
  errors: number;
  /** The code of the last failure (`StoreError`, `InvalidCredentials`, …), never a message. */
  lastError: string | undefined;
}

/** The protected URLs the workload created. */
export interface ProtectedUrlCounts {
  created: number;
  failed: number;
  /** The last URL created, its `jwt` parameter redacted. */
  lastUrl: string | undefined;
}

/** Settings of the workload. */
export interface SampleWorkloadOptions {
  reader: TokenReader;
  credentials: readonly string[];
  /** The credential whose token signs the protected URL requests. */
  sirvCredential: string;
  /** Base URL of the Sirv API (the fake's `http://127.0.0.1:PORT`). */
  sirvBaseUrl: string;
  now: () => Date;
}

/** The protected file the workload asks for. */
export const DEMO_FILE = { filename: '/demo/hero.jpg', expiresIn: 300, secureParams: { w: 600 } };

/** A service that reads tokens and uses the Sirv one; see the file comment. */
export class SampleWorkload {
  readonly counts: Map<string, WorkloadCounts>;
  readonly protectedUrls: ProtectedUrlCounts = { created: 0, failed: 0, lastUrl: undefined };

  constructor(private readonly options: SampleWorkloadOptions) {
    this.counts = new Map(
      options.credentials.map((name) => [name, { reads: 0, expiredReads: 0, errors: 0, lastError: undefined }]),
    );
  }

  /** One round: a read per credential, then one protected URL. Never throws. */
  async tick(): Promise<void> {
    await Promise.all(this.options.credentials.map((name) => this.read(name)));
    await this.createUrl();
  }

  private async read(name: string): Promise<void> {
    const counts = this.countsOf(name);
    counts.reads += 1;
    try {
      const record = await this.options.reader.getToken(name);
      // The reader promises never to hand out an expired token; the demo checks it does not.
      if (Date.parse(record.expiresAt) <= this.options.now().getTime()) {
        counts.expiredReads += 1;
        counts.lastError = 'TokenExpired';
      }
    } catch (error) {
      if (isTokenRotatorError(error) && error.code === 'TokenExpired') {
        counts.expiredReads += 1;
      } else {
        counts.errors += 1;
      }
      counts.lastError = codeOf(error);
    }
  }

  private async createUrl(): Promise<void> {
    const { reader, sirvCredential, sirvBaseUrl } = this.options;
    try {
      const { url } = await createProtectedUrl(reader, sirvCredential, DEMO_FILE, { baseUrl: sirvBaseUrl });
      if (url === undefined) throw new Error('Sirv answered without a url');
      this.protectedUrls.created += 1;
      this.protectedUrls.lastUrl = redactJwtParameter(url);
    } catch (error) {
      this.protectedUrls.failed += 1;
      const counts = this.countsOf(sirvCredential);
      counts.errors += 1;
      counts.lastError = codeOf(error);
    }
  }

  private countsOf(name: string): WorkloadCounts {
    const counts = this.counts.get(name);
    if (!counts) throw new Error(`unknown credential ${name}`);
    return counts;
  }
}

/** The URL with the value of its `jwt` query parameter replaced: that JWT opens the file. */
export function redactJwtParameter(url: string): string {
  return url.replace(/([?&]jwt=)[^&#]*/g, '$1[redacted]');
}

function codeOf(error: unknown): string {
  if (isTokenRotatorError(error)) return error.code;
  return error instanceof Error ? error.name : 'Error';
}
