/**
 * The assertion a refresh sends is never logged, stored or quoted: a jwt-bearer credential made
 * by the provider (moto) is refreshed by the rotator against a token endpoint on 127.0.0.1 that
 * answers first with a token, then with a refusal echoing the whole request (assertion, client
 * secret) back. Nothing of any assertion it received, nor the key or the secret, reaches the
 * rotator's log lines, its answer, or the secrets and tags it wrote.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../../lambda';
import { create } from '../../../provider/runtime';
import { secretsManagerClient } from '../../helpers/aws';

const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const CLIENT_SECRET = 'PLANTED-assertion-client-secret-77';
const PREFIX = `it-secrecy-${randomUUID().slice(0, 8)}/`;

/** Every assertion the endpoint received. */
const received: string[] = [];
let server: Server;
let tokenUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      received.push(new URLSearchParams(body).get('assertion') ?? '');
      if (received.length === 1) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ access_token: `first-token-${randomUUID()}`, expires_in: 3600, token_type: 'Bearer' }),
        );
        return;
      }
      res.writeHead(401, { 'content-type': 'application/json' });
      // The assertion's parts first, inside the part of a body an error may quote.
      const [header = '', payload = '', signature = ''] = (received.at(-1) ?? '').split('.');
      res.end(
        JSON.stringify({ error: 'invalid_grant', error_description: `${payload} ${signature} ${header}`, echo: body }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('a refused jwt-bearer refresh', () => {
  it('keeps every assertion, the key and the client secret out of logs, answers, secrets and tags', async () => {
    // Prepare: the credential, with its first token from the endpoint.
    const sm = secretsManagerClient();
    const name = `secrecy-${randomUUID().slice(0, 8)}`;
    const issuer = {
      kind: 'jwt-bearer',
      tokenUrl,
      allowInsecureHttp: true,
      issuer: 'https://ci.example.com',
      subject: 'deploy-bot',
      clientId: 'jb-client',
      clientSecret: CLIENT_SECRET,
      privateKeyPem: PEM,
    };
    const created = await create({ name, prefix: PREFIX, issuer, codeVersion: '0.1.0' }, { secretsManager: sm });
    const lines: string[] = [];
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    let result: unknown;
    try {
      const handler = createHandler({
        secretsManager: sm,
        // Eleven minutes on: past the forced-refresh floor of the first token.
        now: () => new Date(Date.now() + 11 * 60_000),
        env: { TOKEN_ROTATOR_PREFIX: PREFIX },
        logger: new Logger({ serviceName: 'token-rotator', logLevel: 'DEBUG' }),
      });
      // Act: a forced refresh; the endpoint refuses it (and the one fresh retry), echoing each request.
      result = await handler(
        { credentials: [name], force: true },
        { getRemainingTimeInMillis: () => 60_000, functionName: 'token-rotator' },
      );
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    // Assess
    expect(result).toMatchObject({ results: [{ credential: name, ok: false }] });
    expect(received).toHaveLength(3);
    const tokenSecret = await sm.send(new GetSecretValueCommand({ SecretId: created.outs.tokenSecretArn }));
    const tags = await sm.send(new DescribeSecretCommand({ SecretId: created.outs.tokenSecretArn }));
    const everything = [
      lines.join('\n'),
      JSON.stringify(result),
      tokenSecret.SecretString,
      JSON.stringify(tags.Tags),
    ].join('\n');
    // The failure was logged, naming the credential and quoting the issuer (redacted).
    expect(lines.join('\n')).toMatch(new RegExp(`"credential":"${name}".*Issuer said: .*redacted`));
    for (const assertion of received) {
      for (const part of assertion.split('.')) expect(everything).not.toContain(part);
    }
    expect(everything).not.toContain(CLIENT_SECRET);
    expect(everything).not.toContain(PEM.split('\n')[2]);
    // The client secret holds the key (it signs), but never an assertion.
    const client = await sm.send(new GetSecretValueCommand({ SecretId: created.outs.clientSecretArn }));
    for (const assertion of received) expect(client.SecretString).not.toContain(assertion.split('.')[1]);
  });
});
