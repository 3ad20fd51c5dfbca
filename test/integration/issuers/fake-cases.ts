/**
 * The three vendor fakes behind one shape, so every injectable fault runs against each of them
 * with the same expectations.
 */
import type { IssuerConfigInput } from '../../../core/issuers/config';
import { ASPOSE_CLIENT, startAsposeFake } from '../../../local-stack/fakes/aspose';
import type { Fault, RunningFake } from '../../../local-stack/fakes/faults';
import { HEADER_JWT_CLIENT, startHeaderJwtFake } from '../../../local-stack/fakes/header-jwt';
import { SIRV_SEED_CLIENT, startSirvFake } from '../../../local-stack/fakes/sirv';

export interface FakeCase {
  name: string;
  start(): Promise<RunningFake & { tokenUrl: string }>;
  /** A config pointing at the running fake; loopback is plain HTTP. */
  config(fake: { tokenUrl: string }, overrides?: Record<string, unknown>): IssuerConfigInput;
  clientId: string;
  /** The lifetime the fake states, in seconds. */
  lifetimeSeconds: number;
}

export const FAKE_CASES: FakeCase[] = [
  {
    name: 'sirv',
    start: () => startSirvFake(),
    config: (fake, overrides = {}) =>
      ({
        kind: 'sirv',
        url: fake.tokenUrl,
        allowInsecureHttp: true,
        ...SIRV_SEED_CLIENT,
        ...overrides,
      }) as IssuerConfigInput,
    clientId: SIRV_SEED_CLIENT.clientId,
    lifetimeSeconds: 1200,
  },
  {
    name: 'header-jwt (GET)',
    start: () => startHeaderJwtFake(),
    config: (fake, overrides = {}) =>
      ({
        kind: 'header-jwt',
        url: fake.tokenUrl,
        allowInsecureHttp: true,
        ...HEADER_JWT_CLIENT,
        ...overrides,
      }) as IssuerConfigInput,
    clientId: HEADER_JWT_CLIENT.clientId,
    lifetimeSeconds: 3600,
  },
  {
    name: 'header-jwt (POST)',
    start: () => startHeaderJwtFake(),
    config: (fake, overrides = {}) =>
      ({
        kind: 'header-jwt',
        method: 'POST',
        url: fake.tokenUrl,
        allowInsecureHttp: true,
        ...HEADER_JWT_CLIENT,
        ...overrides,
      }) as IssuerConfigInput,
    clientId: HEADER_JWT_CLIENT.clientId,
    lifetimeSeconds: 3600,
  },
  {
    name: 'aspose',
    start: () => startAsposeFake(),
    config: (fake, overrides = {}) =>
      ({
        kind: 'aspose',
        tokenUrl: fake.tokenUrl,
        allowInsecureHttp: true,
        ...ASPOSE_CLIENT,
        ...overrides,
      }) as IssuerConfigInput,
    clientId: ASPOSE_CLIENT.clientId,
    lifetimeSeconds: 86400,
  },
];

/** Every injectable fault and the error it must become. */
export const FAULT_EXPECTATIONS: { fault: Fault; code: string; reason?: string; retryAfterSeconds?: number }[] = [
  { fault: { status: 429, retryAfter: 7 }, code: 'IssuerUnavailable', reason: 'rate-limited', retryAfterSeconds: 7 },
  { fault: { status: 500 }, code: 'IssuerUnavailable', reason: 'server-error' },
  { fault: { status: 502, body: '<html>Bad Gateway</html>' }, code: 'IssuerUnavailable', reason: 'server-error' },
  { fault: { status: 503, retryAfter: 30 }, code: 'IssuerUnavailable', retryAfterSeconds: 30 },
  { fault: { status: 400, body: '{"message":"Bad Request"}' }, code: 'InvalidConfiguration' },
  { fault: { status: 401 }, code: 'InvalidCredentials' },
  { fault: { status: 403 }, code: 'InvalidCredentials' },
  { fault: { status: 404 }, code: 'InvalidConfiguration' },
  { fault: 'timeout', code: 'IssuerUnavailable', reason: 'timeout' },
  { fault: 'drop', code: 'IssuerUnavailable', reason: 'network' },
  { fault: 'nonJson', code: 'MalformedResponse' },
  { fault: 'missingToken', code: 'MalformedResponse', reason: 'missing-token' },
  { fault: 'expiredToken', code: 'MalformedResponse', reason: 'token-expired-on-arrival' },
];
