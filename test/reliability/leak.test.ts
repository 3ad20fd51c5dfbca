import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isTokenRotatorError, type TokenRotatorError } from '../../core/errors';
import { issueTokenRecord } from '../../core/issue';
import { generateSigningKey } from '../../core/issuers';
import { parseIssuerConfig } from '../../core/issuers/config';
import { resolvePolicy } from '../../core/policy';
import { createCredentialSecrets, deleteCredentialSecrets, readToken } from '../../core/store';
import { createHandler, type InvocationContext, type TargetedResult } from '../../lambda';
import { type HeaderJwtFake, startHeaderJwtFake } from '../../local-stack/fakes/header-jwt';
import { type SirvFake, startSirvFake } from '../../local-stack/fakes/sirv';
import { createLocalBackend, ensureBuilt, inlineStack, type LocalBackend, stateText } from '../../local-stack/pulumi';
import { ProviderCredential } from '../../provider/resource';
import { secretsManagerClient } from '../helpers/aws';
import { obtainFrom } from '../helpers/issuers';
import { recordingFetch } from '../helpers/sdk-faults';

const PREFIX = `leak-${Date.now().toString(36)}/`;
const CONTEXT: InvocationContext = { getRemainingTimeInMillis: () => 900_000, functionName: 'token-rotator' };
const PLANTED = {
  sirv: 'PLANTED-leak-sirv-secret-0001',
  header: 'PLANTED-leak-header-secret-0002',
  echo: 'PLANTED-leak-echo-secret-0003',
  pulumiSirv: 'PLANTED-leak-pulumi-sirv-0004',
};

/** Every line a body of PEM carries, so a partial key shows up too. */
function pemLines(pem: string): string[] {
  return pem.split('\n').filter((l) => l.length > 40 && !l.startsWith('-----'));
}

/** Asserts that no planted value appears in `text`; `what` names the place for the failure message. */
function expectNoLeak(text: string, planted: readonly string[], what: string): void {
  for (const secret of planted) expect(text.includes(secret), `${what} contains ${secret.slice(0, 12)}…`).toBe(false);
  expect(text, what).not.toMatch(/BEGIN (RSA )?PRIVATE KEY/);
}

let sirv: SirvFake;
let header: HeaderJwtFake;
let clean: SecretsManagerClient;
const { fetch: recording, issued } = recordingFetch();

beforeAll(async () => {
  clean = secretsManagerClient();
  [sirv, header] = await Promise.all([
    startSirvFake({
      clients: { 'leak-sirv': PLANTED.sirv, 'leak-echo': PLANTED.echo, 'pulumi-sirv': PLANTED.pulumiSirv },
    }),
    startHeaderJwtFake({ clients: { 'leak-header': PLANTED.header } }),
  ]);
});

afterAll(async () => {
  await Promise.all([sirv?.close(), header?.close()]);
});

describe('the rotator logs and errors', () => {
  const names = ['leak-sirv', 'leak-header', 'leak-echo', 'leak-upload'];
  let privateKeyPem: string;
  /** An issuer that echoes the request (client secret included) in its error body, for `leak-echo`. */
  const echoing = (async (input: string | URL | Request, init?: RequestInit) => {
    const body = typeof init?.body === 'string' ? init.body : '';
    if (body.includes('leak-echo')) {
      return new Response(JSON.stringify({ error: 'invalid', youSent: JSON.parse(body), raw: body }), {
        status: 500,
        headers: { 'content-type': 'application/json' },
      });
    }
    return recording(input, init);
  }) as typeof fetch;

  beforeAll(async () => {
    ({ privateKeyPem } = await generateSigningKey());
    const issuers: Record<string, Record<string, unknown>> = {
      'leak-sirv': {
        kind: 'sirv',
        url: sirv.tokenUrl,
        allowInsecureHttp: true,
        clientId: 'leak-sirv',
        clientSecret: PLANTED.sirv,
      },
      'leak-header': {
        kind: 'header-jwt',
        url: header.tokenUrl,
        allowInsecureHttp: true,
        clientId: 'leak-header',
        clientSecret: PLANTED.header,
      },
      'leak-echo': {
        kind: 'sirv',
        url: sirv.tokenUrl,
        allowInsecureHttp: true,
        clientId: 'leak-echo',
        clientSecret: PLANTED.echo,
      },
      'leak-upload': { kind: 'upload', subject: 'leak-upload', privateKeyPem, ttlSeconds: 3600 },
    };
    for (const name of names) {
      const issuer = parseIssuerConfig(issuers[name]);
      // Issued eleven minutes ago on the rotator's clock: past the forced-refresh floor.
      const token = await issueTokenRecord(
        { credential: name, issuer, policy: resolvePolicy({}), previousGeneration: 0 },
        { credential: name, fetch: recording, now: () => new Date(Date.now() - 11 * 60_000) },
      );
      if (name !== 'leak-upload') issued.add(token.accessToken);
      await createCredentialSecrets(
        { client: clean, prefix: PREFIX },
        { name, clientDocument: { version: 1, issuer, policy: {} }, token },
      );
    }
  });

  afterAll(async () => {
    for (const name of names) {
      await deleteCredentialSecrets({ client: clean, prefix: PREFIX }, name, { forceDeleteWithoutRecovery: true });
    }
  });

  it('keeps secrets, tokens and keys out of every log line, result, error message and toJSON()', async () => {
    // Prepare: capture everything the rotator prints (Powertools writes JSON lines to stdout).
    const lines: string[] = [];
    const capture = (chunk: unknown) => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture as typeof process.stderr.write),
      ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
        vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
          lines.push(args.map(String).join(' '));
        }),
      ),
    ];
    header.revokeClient('leak-header');
    let results: TargetedResult;
    const errors: TokenRotatorError[] = [];
    try {
      const handler = createHandler({
        secretsManager: clean,
        fetch: echoing,
        env: { TOKEN_ROTATOR_PREFIX: PREFIX },
        logger: new Logger({ serviceName: 'token-rotator', logLevel: 'DEBUG' }),
        metrics: new Metrics({ namespace: 'TokenRotator', serviceName: 'token-rotator' }),
      });
      // Act: a success, a rejection, an issuer echoing the secret, a signed JWT; then a sweep.
      results = (await handler({ credentials: names, force: true }, CONTEXT)) as TargetedResult;
      await handler({ action: 'sweep' }, CONTEXT);
      for (const name of ['leak-echo', 'leak-header']) {
        const issuer =
          name === 'leak-echo'
            ? {
                kind: 'sirv',
                url: sirv.tokenUrl,
                allowInsecureHttp: true,
                clientId: 'leak-echo',
                clientSecret: PLANTED.echo,
              }
            : {
                kind: 'header-jwt',
                url: header.tokenUrl,
                allowInsecureHttp: true,
                clientId: 'leak-header',
                clientSecret: PLANTED.header,
              };
        await obtainFrom(issuer, { credential: name, fetch: echoing }).catch((e: unknown) => {
          if (isTokenRotatorError(e)) errors.push(e);
        });
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
      header.restoreClient('leak-header');
    }

    // Assess: the capture worked and saw every case.
    const log = lines.join('');
    expect(log).toContain('"Refresh failed"');
    expect(log).toContain('"Refreshed"');
    expect(results.results.map((r) => ('ok' in r ? r.ok : undefined))).toEqual([true, false, false, true]);
    expect(errors.map((e) => e.code)).toEqual(['IssuerUnavailable', 'InvalidCredentials']);

    // Every token the issuers handed out and every token now stored.
    const tokens = new Set(issued);
    for (const name of names) {
      const stored = await readToken({ client: clean, prefix: PREFIX }, name);
      if (stored) tokens.add(stored.accessToken);
    }
    const planted = [...Object.values(PLANTED), ...tokens, ...pemLines(privateKeyPem)];
    expectNoLeak(log, planted, 'the rotator log');
    expectNoLeak(JSON.stringify(results), planted, 'the targeted results');
    for (const e of errors) {
      expectNoLeak(e.message, planted, `${e.credential} error message`);
      expectNoLeak(JSON.stringify(e.toJSON()), planted, `${e.credential} toJSON()`);
      expectNoLeak(String(e.stack), planted, `${e.credential} stack`);
      expectNoLeak(String((e.cause as Error | undefined)?.message ?? ''), planted, `${e.credential} cause`);
    }
  });
});

describe('a real pulumi up', () => {
  let backend: LocalBackend | undefined;

  afterAll(async () => {
    await backend?.dispose();
  });

  it('keeps secrets, tokens and the private key out of the outputs, the state file and the CLI output', async () => {
    // Prepare: a Sirv credential and an Upload credential with a planted private key.
    const { privateKeyPem } = await generateSigningKey();
    await ensureBuilt();
    backend = await createLocalBackend();
    const stackPrefix = `${PREFIX}pulumi/`;
    const stack = await inlineStack(backend, 'reliability-leak', 'dev', async () => {
      const cfg = new pulumi.Config();
      const sirvCredential = new ProviderCredential('leak-pulumi-sirv', {
        prefix: stackPrefix,
        recoveryWindowInDays: 0,
        issuer: {
          kind: 'sirv',
          url: sirv.tokenUrl,
          allowInsecureHttp: true,
          clientId: 'pulumi-sirv',
          clientSecret: cfg.requireSecret('sirvClientSecret'),
        },
      });
      const upload = new ProviderCredential('leak-pulumi-upload', {
        prefix: stackPrefix,
        recoveryWindowInDays: 0,
        issuer: {
          kind: 'upload',
          subject: 'svc-leak',
          ttlSeconds: 3600,
          privateKeyPem: cfg.requireSecret('uploadKey'),
        },
      });
      return {
        sirvTokenSecretArn: sirvCredential.tokenSecretArn,
        sirvReadPolicy: sirvCredential.readPolicy,
        sirvClientSecretName: sirvCredential.clientSecretName,
        uploadTokenSecretArn: upload.tokenSecretArn,
        uploadPublicKeyPem: upload.publicKeyPem,
      };
    });
    await stack.setAllConfig({
      sirvClientSecret: { value: PLANTED.pulumiSirv, secret: true },
      uploadKey: { value: privateKeyPem, secret: true },
    });
    let output = '';
    const onOutput = (text: string) => {
      output += text;
    };

    // Act
    const up = await stack.up({ onOutput });
    const tokens: string[] = [];
    for (const name of ['leak-pulumi-sirv', 'leak-pulumi-upload']) {
      const stored = await readToken({ client: clean, prefix: stackPrefix }, name);
      if (stored) tokens.push(stored.accessToken);
    }
    const state = await stateText(backend);
    const destroy = await stack.destroy({ onOutput });

    // Assess
    expect(up.summary.result).toBe('succeeded');
    expect(tokens).toHaveLength(2);
    expect(String(up.outputs.uploadPublicKeyPem?.value)).toContain('BEGIN PUBLIC KEY');
    const planted = [PLANTED.pulumiSirv, ...tokens, ...pemLines(privateKeyPem)];
    expectNoLeak(JSON.stringify(up.outputs), planted, 'the stack outputs');
    expectNoLeak(state, planted, 'the state file');
    // (Not `stack.exportStack()`: the Automation API exports with --show-secrets, decrypted on purpose.)
    expectNoLeak(output, planted, 'the CLI output');
    // The secret inputs are in the state, encrypted with the passphrase.
    expect(state).toContain('ciphertext');
    expect(destroy.summary.result).toBe('succeeded');
  });
});
