/**
 * Sirv's token endpoint as an in-process `fetch`, for runs that need thousands of refreshes
 * without sockets (the unit suite, bench/write-quota.ts): it answers per client id, records each
 * request and measures how many are in flight at once. The contract fake on a real port is
 * ./sirv.ts.
 */

/** What the fake issuer answers for one request: a token (the default), or an error answer. */
export type IssuerAnswer =
  | { kind: 'token'; lifetimeSeconds?: number }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> };

/** One request the fake issuer received. */
export interface IssuerCall {
  clientId: string;
  body: string;
}

export interface SirvFetchOptions {
  /** The answer per client id; a token by default. */
  answers?: Record<string, IssuerAnswer>;
  /** How many times each request yields to the event loop before answering. */
  holdTurns?: number;
  /** The start of every token handed out. */
  tokenPrefix?: string;
}

export interface SirvFetch {
  fetch: typeof fetch;
  /** Every request, in order. */
  calls: IssuerCall[];
  /** The most requests in flight at once so far. */
  readonly peakInFlight: number;
}

/**
 * A Sirv token endpoint as a `fetch`: answers per client id (`answers`, a token by default),
 * counts calls and the peak number in flight. Each request yields to the event loop `holdTurns`
 * times before answering, so concurrent requests overlap without any timer.
 */
export function sirvFetch(options: SirvFetchOptions = {}): SirvFetch {
  const tokenPrefix = options.tokenPrefix ?? 'sirv-fetch-token-';
  const calls: IssuerCall[] = [];
  let inFlight = 0;
  let peak = 0;
  let issued = 0;
  const fetchImpl = async (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    try {
      for (let i = 0; i < (options.holdTurns ?? 0); i++) await new Promise((resolve) => setImmediate(resolve));
      const body = typeof init?.body === 'string' ? init.body : '';
      const clientId = String((JSON.parse(body || '{}') as { clientId?: unknown }).clientId);
      calls.push({ clientId, body });
      const answer = options.answers?.[clientId] ?? { kind: 'token' };
      if (answer.kind === 'status') {
        return new Response(JSON.stringify(answer.body ?? { error: 'failure' }), {
          status: answer.status,
          headers: { 'content-type': 'application/json', ...answer.headers },
        });
      }
      issued += 1;
      return new Response(
        JSON.stringify({
          token: `${tokenPrefix}${clientId}-${issued}`,
          expiresIn: answer.lifetimeSeconds ?? 1200,
          scope: ['files:read'],
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    } finally {
      inFlight -= 1;
    }
  };
  return {
    fetch: fetchImpl as typeof fetch,
    calls,
    get peakInFlight() {
      return peak;
    },
  };
}
