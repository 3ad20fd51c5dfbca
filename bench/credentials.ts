/**
 * Seeds Sirv credentials in moto the way the provider leaves them after `pulumi up`: both
 * secrets written by the store's own createCredentialSecrets, the token tagged with its
 * refresh-after. The first token is a placeholder record, not obtained from the fake: seeding is
 * not what is measured.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pLimit from 'p-limit';
import { type ClientDocumentInput, createCredentialSecrets } from '../core/store';
import type { TokenRecord } from '../core/token';

/** The client the Sirv fake of a benchmark knows; every seeded credential uses it. */
export const BENCH_CLIENT = { clientId: 'bench-client-id', clientSecret: 'bench-client-secret-0123456789' };

/** Sirv's token lifetime, which the fake hands out. */
export const SIRV_LIFETIME_SECONDS = 1200;

/** What to seed. */
export interface SeedOptions {
  client: SecretsManagerClient;
  prefix: string;
  count: number;
  /** The Sirv fake's token URL (http on loopback, hence `allowInsecureHttp`). */
  tokenUrl: string;
  /** When the placeholder first token was issued; its refresh-after is 75 % of 20 minutes later. */
  issuedAt: Date;
  /** Writes in flight at once. */
  concurrency?: number;
}

/** The name of the `i`-th seeded credential: `bench-0000`, `bench-0001`, … */
export function benchCredentialName(i: number): string {
  return `bench-${String(i).padStart(4, '0')}`;
}

/** A placeholder token record issued at `issuedAt` with Sirv's lifetime and the default 75 % refresh point. */
export function placeholderToken(name: string, issuedAt: Date): TokenRecord {
  const at = issuedAt.getTime();
  return {
    version: 1,
    credential: name,
    issuer: 'json',
    accessToken: `placeholder-${name}`,
    tokenType: 'Bearer',
    issuedAt: new Date(at).toISOString(),
    expiresAt: new Date(at + SIRV_LIFETIME_SECONDS * 1000).toISOString(),
    refreshAfter: new Date(at + SIRV_LIFETIME_SECONDS * 750).toISOString(),
    generation: 1,
  };
}

/** The client document of every seeded credential: {@link BENCH_CLIENT} at `tokenUrl` (http on loopback). */
export function benchClientDocument(tokenUrl: string): ClientDocumentInput {
  return {
    version: 1,
    issuer: { kind: 'sirv', url: tokenUrl, allowInsecureHttp: true, ...BENCH_CLIENT },
    policy: {},
  };
}

/** Creates `count` credentials under `prefix`; returns their names. */
export async function seedSirvCredentials(options: SeedOptions): Promise<string[]> {
  const names = Array.from({ length: options.count }, (_, i) => benchCredentialName(i));
  const limit = pLimit(options.concurrency ?? 16);
  await Promise.all(
    names.map((name) =>
      limit(() =>
        createCredentialSecrets(
          { client: options.client, prefix: options.prefix },
          {
            name,
            clientDocument: benchClientDocument(options.tokenUrl),
            token: placeholderToken(name, options.issuedAt),
          },
        ),
      ),
    ),
  );
  return names;
}
