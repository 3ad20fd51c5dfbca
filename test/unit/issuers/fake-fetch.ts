/** Test seams for the issuers: a recording `fetch` with canned answers, a frozen clock, JWT fixtures. */
import { SignJWT } from 'jose';

/** One call the fake `fetch` received. */
export interface RecordedCall {
  url: string;
  method: string;
  headers: Headers;
  body: string | undefined;
  redirect: RequestInit['redirect'];
  signal: AbortSignal | undefined;
}

type Answer = Response | Error | ((call: RecordedCall) => Response | Promise<Response>);

/** A `fetch` that answers from a list (the last answer repeats) and records every call. */
export function fakeFetch(...answers: Answer[]): { fetch: typeof fetch; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const call: RecordedCall = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : undefined,
      redirect: init?.redirect,
      signal: init?.signal ?? undefined,
    };
    calls.push(call);
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)];
    if (answer === undefined) throw new Error('fakeFetch: no answer configured');
    if (answer instanceof Error) throw answer;
    return typeof answer === 'function' ? answer(call) : answer.clone();
  };
  return { fetch: fetchImpl as typeof fetch, calls };
}

/** A JSON response. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** A `fetch` that never answers and ignores its signal (the issuer must time out on its own). */
export function hangingFetch(): typeof fetch {
  return (() => new Promise<Response>(() => {})) as typeof fetch;
}

/** A `fetch` that fails like undici when nothing listens: `TypeError: fetch failed`, cause ECONNREFUSED. */
export function refusedFetch(): typeof fetch {
  return (async () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
    });
    throw new TypeError('fetch failed', { cause });
  }) as typeof fetch;
}

/** The frozen instant of every unit test. */
export const NOW = new Date('2026-03-01T12:00:00.000Z');
export const NOW_SECONDS = NOW.getTime() / 1000;
export const frozenNow = (): Date => new Date(NOW.getTime());

/** An HS256 JWT with the given claims (signature irrelevant to the issuers). */
export function jwt(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode('unit-test-signing-key-0123456789'));
}
