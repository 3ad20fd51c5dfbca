import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { importSPKI, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidConfigurationError, InvalidCredentialsError, IssuerUnavailableError } from '../../../core/errors';
import { UNKNOWN } from '../../../provider/inputs';
import { create, diff, read, remove, update } from '../../../provider/runtime';
import { tokenRecord } from '../../helpers/token-record';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const SECRET = 'planted-provider-secret-c0ffee';
const NEW_SECRET = 'planted-provider-secret-rotated';
const sm = mockClient(SecretsManagerClient);

const notFound = () => new ResourceNotFoundException({ message: 'not found', $metadata: {} });
const arnOf = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;

function sirvInputs(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'sirv-prod',
    issuer: { kind: 'sirv', clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R', clientSecret: SECRET, ...overrides },
    codeVersion: '0.1.0',
    __provider: 'serialized provider text',
  };
}

/** A fetch that answers like Sirv, recording when it was called relative to AWS writes. */
function sirvFetch(events: string[], status = 200) {
  return async (_url: string | URL | Request, _init?: RequestInit) => {
    events.push('issuer');
    if (status !== 200) return new Response(JSON.stringify({ message: 'Unauthorized' }), { status });
    return Response.json({ token: 'issued-access-token-1', expiresIn: 1200, scope: ['files:read'] });
  };
}

function recordWrites(events: string[]) {
  sm.on(CreateSecretCommand).callsFake((input: { Name: string }) => {
    events.push(`create ${input.Name}`);
    return { ARN: arnOf(input.Name), Name: input.Name };
  });
  sm.on(PutSecretValueCommand).callsFake((input: { SecretId: string }) => {
    events.push(`put ${input.SecretId}`);
    return { VersionId: 'v' };
  });
}

const seams = (fetch: typeof globalThis.fetch) => ({
  secretsManager: new SecretsManagerClient({ region: 'us-east-1' }),
  fetch,
  now: () => NOW,
  random: () => 0,
});

describe('provider create', () => {
  beforeEach(() => {
    sm.reset();
    sm.on(DescribeSecretCommand).rejects(notFound());
  });

  it('obtains the first token before writing both secrets, and outputs the ARNs, not what follows from them', async () => {
    // Prepare
    const events: string[] = [];
    recordWrites(events);

    // Act
    const { id, outs } = await create(sirvInputs(), seams(sirvFetch(events) as typeof fetch));

    // Assess
    expect(events).toEqual(['issuer', 'create token-rotator/sirv-prod/client', 'create token-rotator/sirv-prod/token']);
    expect(id).toBe('token-rotator/sirv-prod');
    expect(outs.tokenSecretArn).toBe(arnOf('token-rotator/sirv-prod/token'));
    expect(outs.clientSecretArn).toBe(arnOf('token-rotator/sirv-prod/client'));
    // The names and the read policy are the program's (derived-outputs.ts): not carried in the state.
    for (const derived of ['tokenSecretName', 'clientSecretName', 'readPolicy'])
      expect(outs).not.toHaveProperty(derived);
    expect(outs).not.toHaveProperty('__provider');
    const token = JSON.parse(sm.commandCalls(CreateSecretCommand)[1]?.args[0].input.SecretString ?? '{}');
    expect(token).toMatchObject({
      credential: 'sirv-prod',
      issuer: 'sirv',
      generation: 1,
      accessToken: 'issued-access-token-1',
    });
    expect(token.expiresAt).toBe('2026-11-22T12:20:00.000Z');
    // The only output carrying the secret is `issuer`, which the resource marks secret.
    const { issuer: _issuer, ...publicOuts } = outs;
    expect(JSON.stringify(publicOuts)).not.toContain(SECRET);
    expect(JSON.stringify(publicOuts)).not.toContain('issued-access-token-1');
  });

  it('fails on rejected credentials and writes nothing', async () => {
    const events: string[] = [];
    recordWrites(events);

    const failure = create(sirvInputs(), seams(sirvFetch(events, 401) as typeof fetch));

    await expect(failure).rejects.toBeInstanceOf(InvalidCredentialsError);
    // A Sirv credential is called one, not by the "json" kind its preset expands to.
    await expect(failure).rejects.toThrow(/^Sirv credential "sirv-prod": the issuer at https:\/\/\S+ answered 401/);
    await expect(failure).rejects.not.toThrow(/json issuer/);
    await expect(failure).rejects.not.toThrow(SECRET);
    expect(events).toEqual(['issuer']);
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  /** A rotator that answers a targeted refresh of `sirv-prod` with `result`, recording the event. */
  function rotatorAnswering(events: string[], result: Record<string, unknown>) {
    const lambda = mockClient(LambdaClient);
    lambda.on(InvokeCommand).callsFake((input: { Payload: Uint8Array }) => {
      events.push(`invoke ${new TextDecoder().decode(input.Payload)}`);
      const answer = { results: [{ credential: 'sirv-prod', ...result }] };
      return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(answer)) };
    });
    return lambda;
  }

  it('has the rotator write the first token when rotatorFunctionName is set: the document first, then a refresh by name', async () => {
    // Prepare
    const events: string[] = [];
    recordWrites(events);
    const lambda = rotatorAnswering(events, {
      ok: true,
      generation: 1,
      expiresAt: '2026-11-22T12:20:00.000Z',
      refreshAfter: '2026-11-22T12:15:00.000Z',
      secondsToExpiry: 1200,
    });

    try {
      // Act
      await create(
        { ...sirvInputs(), rotatorFunctionName: 'token-rotator-fn' },
        { ...seams(sirvFetch(events) as typeof fetch), lambda: new LambdaClient({ region: 'us-east-1' }) },
      );
    } finally {
      lambda.restore();
    }

    // Assess: the provider never called the issuer; the event names the credential, nothing else.
    expect(events).toEqual([
      'create token-rotator/sirv-prod/client',
      'create token-rotator/sirv-prod/token',
      'invoke {"credentials":["sirv-prod"],"force":true}',
    ]);
    expect(sm.commandCalls(CreateSecretCommand)[1]?.args[0].input.SecretString).toBeUndefined();
  });

  it('removes both secrets again when the rotator reports the issuer refused the first token', async () => {
    // Prepare
    const events: string[] = [];
    recordWrites(events);
    sm.on(DeleteSecretCommand).callsFake((input: { SecretId: string }) => {
      events.push(`delete ${input.SecretId}`);
      return {};
    });
    const lambda = rotatorAnswering(events, {
      ok: false,
      error: { code: 'InvalidCredentials', message: 'Credential "sirv-prod": rejected (401).', transient: false },
    });

    try {
      // Act
      const failure = create(
        { ...sirvInputs(), rotatorFunctionName: 'token-rotator-fn' },
        { ...seams(sirvFetch(events) as typeof fetch), lambda: new LambdaClient({ region: 'us-east-1' }) },
      );
      // Assess
      await expect(failure).rejects.toBeInstanceOf(InvalidCredentialsError);
      await expect(failure).rejects.not.toThrow(SECRET);
    } finally {
      lambda.restore();
    }
    expect(events.filter((e) => e.startsWith('delete')).sort()).toEqual([
      'delete token-rotator/sirv-prod/client',
      'delete token-rotator/sirv-prod/token',
    ]);
  });

  it('generates a signing key for an upload credential without one and outputs its public key', async () => {
    recordWrites([]);

    const { outs } = await create(
      { name: 'upload-prod', issuer: { kind: 'upload', subject: 'svc' }, codeVersion: '0.1.0' },
      seams(sirvFetch([]) as typeof fetch),
    );

    const client = JSON.parse(sm.commandCalls(CreateSecretCommand)[0]?.args[0].input.SecretString ?? '{}');
    expect(client.issuer.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const token = JSON.parse(sm.commandCalls(CreateSecretCommand)[1]?.args[0].input.SecretString ?? '{}');
    const { payload } = await jwtVerify(token.accessToken, await importSPKI(outs.publicKeyPem ?? '', 'RS256'), {
      currentDate: NOW,
    });
    expect(payload.sub).toBe('svc');
    expect(JSON.stringify({ ...outs, issuer: undefined })).not.toContain('PRIVATE KEY');
  });
});

describe('provider update', () => {
  const storedClient = (secret: string) =>
    JSON.stringify({
      version: 1,
      issuer: {
        kind: 'sirv',
        url: 'https://api.sirv.com/v2/token',
        clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R',
        clientSecret: secret,
      },
      policy: {},
    });
  const storedToken = JSON.stringify(
    tokenRecord(
      'sirv-prod',
      { at: NOW, issued: -300, refresh: 540, expires: 900 },
      { accessToken: 'old-token', generation: 7 },
    ),
  );
  const olds = { ...sirvInputs(), prefix: 'token-rotator/', tokenSecretArn: arnOf('t'), clientSecretArn: arnOf('c') };

  beforeEach(() => {
    sm.reset();
    sm.on(GetSecretValueCommand, { SecretId: 'token-rotator/sirv-prod/client' }).resolves({
      SecretString: storedClient(SECRET),
    });
    sm.on(GetSecretValueCommand, { SecretId: 'token-rotator/sirv-prod/token' }).resolves({ SecretString: storedToken });
    sm.on(DescribeSecretCommand, { SecretId: 'token-rotator/sirv-prod/token' }).resolves({ ARN: arnOf('t') });
  });

  it('validates a new client secret against the issuer before replacing the old one', async () => {
    const events: string[] = [];
    recordWrites(events);

    const { outs } = await update(
      olds,
      sirvInputs({ clientSecret: NEW_SECRET }),
      seams(sirvFetch(events) as typeof fetch),
    );

    // The token first: the client document's version tag, written last, vouches for both.
    expect(events).toEqual(['issuer', 'put token-rotator/sirv-prod/token', 'put token-rotator/sirv-prod/client']);
    const client = JSON.parse(sm.commandCalls(PutSecretValueCommand)[1]?.args[0].input.SecretString ?? '{}');
    expect(client.issuer.clientSecret).toBe(NEW_SECRET);
    const token = JSON.parse(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input.SecretString ?? '{}');
    expect(token.generation).toBe(8);
    expect(outs.tokenSecretArn).toBe(arnOf('t'));
  });

  it('leaves the old secret and token untouched when the new secret is rejected', async () => {
    const events: string[] = [];
    recordWrites(events);

    await expect(
      update(olds, sirvInputs({ clientSecret: NEW_SECRET }), seams(sirvFetch(events, 403) as typeof fetch)),
    ).rejects.toBeInstanceOf(InvalidCredentialsError);

    expect(events).toEqual(['issuer']);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('leaves everything untouched when the issuer is down', async () => {
    recordWrites([]);

    await expect(
      update(olds, sirvInputs({ clientSecret: NEW_SECRET }), seams(sirvFetch([], 503) as typeof fetch)),
    ).rejects.toBeInstanceOf(IssuerUnavailableError);

    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('writes no token when only tags change, and is idempotent when nothing does', async () => {
    const events: string[] = [];
    recordWrites(events);
    sm.on(TagResourceCommand).resolves({});

    await update(olds, { ...sirvInputs(), tags: { team: 'media' } }, seams(sirvFetch(events) as typeof fetch));
    await update(olds, sirvInputs(), seams(sirvFetch(events) as typeof fetch));

    expect(events).toEqual([]);
    expect(sm.commandCalls(TagResourceCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      'token-rotator/sirv-prod/client',
      'token-rotator/sirv-prod/token',
    ]);
    // The key did not change, so neither secret is re-keyed.
    expect(sm.commandCalls(UpdateSecretCommand)).toHaveLength(0);
  });

  it('writes the declared document back over a stored value that is no longer one, validated first', async () => {
    // Prepare: the client secret edited by hand into something that is not a client document.
    const events: string[] = [];
    recordWrites(events);
    sm.on(GetSecretValueCommand, { SecretId: 'token-rotator/sirv-prod/client' }).resolves({ SecretString: 'oops' });

    // Act: the same inputs as the state's, as after a refresh that reported the drift.
    await update({ ...olds, issuer: {} }, sirvInputs(), seams(sirvFetch(events) as typeof fetch));

    // Assess
    expect(events).toEqual(['issuer', 'put token-rotator/sirv-prod/token', 'put token-rotator/sirv-prod/client']);
    const client = JSON.parse(sm.commandCalls(PutSecretValueCommand)[1]?.args[0].input.SecretString ?? '{}');
    expect(client.issuer).toMatchObject({ kind: 'sirv', clientSecret: SECRET });
  });

  it('does not replace a broken stored value that may hold the signing key it generated', async () => {
    // Prepare: an upload credential whose key the provider generated, its client secret edited by hand.
    const events: string[] = [];
    recordWrites(events);
    sm.on(GetSecretValueCommand, { SecretId: 'token-rotator/upload-prod/client' }).resolves({ SecretString: 'oops' });
    const inputs = { name: 'upload-prod', issuer: { kind: 'upload', subject: 'svc' }, codeVersion: '0.1.0' };
    const uploadOlds = { ...inputs, prefix: 'token-rotator/', tokenSecretArn: arnOf('t'), clientSecretArn: arnOf('c') };

    // Act
    const failure = update({ ...uploadOlds, issuer: {} }, inputs, seams(sirvFetch(events) as typeof fetch));

    // Assess: the error names the stored value; nothing is written, no key generated in its place.
    await expect(failure).rejects.toBeInstanceOf(InvalidConfigurationError);
    await expect(failure).rejects.toThrow(/Credential "upload-prod": the client secret is not JSON/);
    expect(events).toEqual([]);
  });
});

describe('provider diff', () => {
  const olds = { ...sirvInputs(), prefix: 'token-rotator/' };

  it('reports no change for identical inputs', () => {
    expect(diff(olds, { ...sirvInputs(), prefix: 'token-rotator/' })).toMatchObject({ changes: false, replaces: [] });
  });

  it('updates in place for a new client secret, policy or provider code version', () => {
    for (const news of [
      sirvInputs({ clientSecret: NEW_SECRET }),
      { ...sirvInputs(), policy: { refreshFraction: 0.8 } },
      { ...sirvInputs(), codeVersion: '0.2.0' },
    ]) {
      expect(diff(olds, news)).toMatchObject({ changes: true, replaces: [] });
    }
  });

  it('replaces on a new name or prefix, creating the new secrets before deleting the old', () => {
    expect(diff(olds, { ...sirvInputs(), name: 'sirv-prod-2' })).toMatchObject({
      replaces: ['name'],
      deleteBeforeReplace: false,
    });
    expect(diff(olds, { ...sirvInputs(), prefix: 'other/' }).replaces).toEqual(['prefix']);
  });

  it('updates in place on a new kind: the secret names stay, and nothing is deleted before the new kind works', () => {
    const news = { ...sirvInputs(), issuer: { kind: 'aspose', clientId: 'x', clientSecret: SECRET } };
    expect(diff(olds, news)).toMatchObject({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(diff(olds, news).stables).toContain('tokenSecretArn');
  });
});

describe('provider diff of the AWS settings', () => {
  const arn = (region: string) =>
    `arn:aws:secretsmanager:${region}:123456789012:secret:token-rotator/sirv-prod/token-AbCdEf`;
  const olds = {
    ...sirvInputs(),
    prefix: 'token-rotator/',
    aws: { region: 'us-east-1' },
    tokenSecretArn: arn('us-east-1'),
    clientSecretArn: arn('us-east-1'),
  };

  it('replaces on a new region, creating the new secrets before the old are deleted', () => {
    const verdict = diff(olds, { ...sirvInputs(), aws: { region: 'eu-west-1' } });
    expect(verdict).toMatchObject({ changes: true, replaces: ['aws'], deleteBeforeReplace: false, stables: [] });
  });

  it('updates in place on a new profile or role in the same region', () => {
    const verdict = diff(olds, { ...sirvInputs(), aws: { region: 'us-east-1', profile: 'platform' } });
    expect(verdict).toMatchObject({ changes: true, replaces: [] });
    expect(verdict.stables).toContain('tokenSecretArn');
  });

  it('reads the old region of a state recorded without settings from its ARNs', () => {
    const { aws: _none, ...withoutSettings } = olds;
    expect(
      diff(
        { ...withoutSettings, tokenSecretArn: arn('us-west-2'), clientSecretArn: arn('us-west-2') },
        {
          ...sirvInputs(),
          aws: { region: 'us-east-1' },
        },
      ).replaces,
    ).toEqual(['aws']);
    // Same region: one update that records the settings, nothing replaced.
    expect(diff(withoutSettings, { ...sirvInputs(), aws: { region: 'us-east-1' } })).toMatchObject({
      changes: true,
      replaces: [],
    });
  });

  it('does not judge a region that is unknown during preview', () => {
    expect(diff(olds, { ...sirvInputs(), aws: { region: UNKNOWN } }).replaces).toEqual([]);
  });
});

describe('provider AWS clients', () => {
  beforeEach(() => {
    sm.reset();
    sm.on(DescribeSecretCommand).rejects(notFound());
  });

  it('builds its Secrets Manager client from the recorded region, not from the environment', async () => {
    // Prepare: no client seam; the mock answers every client, whatever its region.
    const events: string[] = [];
    recordWrites(events);

    // Act
    await create(
      { ...sirvInputs(), aws: { region: 'ap-southeast-2' } },
      {
        fetch: sirvFetch(events) as typeof fetch,
        now: () => NOW,
        random: () => 0,
      },
    );

    // Assess
    const client = sm.send.getCall(0).thisValue as SecretsManagerClient;
    expect(await client.config.region()).toBe('ap-southeast-2');
  });

  it('refuses a real token too short for the write budget before writing, naming what to change', async () => {
    // Prepare: a json issuer whose token lives 5 minutes, known only from its answer.
    const events: string[] = [];
    recordWrites(events);
    const shortLived = (async () => Response.json({ token: 'short-token', expiresIn: 300 })) as unknown as typeof fetch;
    const inputs = {
      ...sirvInputs(),
      issuer: { kind: 'json', url: 'https://tokens.example/t', clientId: 'a', clientSecret: SECRET },
    };

    // Act
    const failure = create(inputs, { ...seams(shortLived), secretsManager: undefined });

    // Assess
    await expect(failure).rejects.toThrow(
      /^Credential "sirv-prod": its tokens live 300 s \(as the issuer answered\), too short .*policy\.allowFrequentWrites: true/,
    );
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });
});

describe('provider read and delete', () => {
  beforeEach(() => sm.reset());

  it('reports the credential gone when both secrets were deleted out of band', async () => {
    sm.on(DescribeSecretCommand).rejects(notFound());

    const result = await read('token-rotator/sirv-prod', { name: 'sirv-prod', prefix: 'token-rotator/' }, seams(fetch));

    expect(result).toEqual({});
  });

  it('treats secrets scheduled for deletion as gone, and a missing half as drift', async () => {
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(DescribeSecretCommand, { SecretId: 'token-rotator/sirv-prod/client' }).resolves({ ARN: arnOf('c') });
    sm.on(DescribeSecretCommand, { SecretId: 'token-rotator/sirv-prod/token' }).resolves({
      ARN: arnOf('t'),
      DeletedDate: NOW,
    });

    const result = await read(
      'token-rotator/sirv-prod',
      { name: 'sirv-prod', tokenSecretArn: arnOf('t') },
      seams(fetch),
    );

    expect(result.id).toBe('token-rotator/sirv-prod');
    expect(result.props).toMatchObject({ clientSecretArn: arnOf('c'), tokenSecretArn: '' });
  });

  it('reports a client secret changed out of band as drift of the issuer block', async () => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves({ ARN: arnOf('x') });
    const stored = {
      kind: 'sirv',
      url: 'https://api.sirv.com/v2/token',
      clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R',
      clientSecret: NEW_SECRET,
    };
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ version: 1, issuer: stored, policy: {} }) });
    const props = { ...sirvInputs(), prefix: 'token-rotator/' };

    // Act
    const result = await read('token-rotator/sirv-prod', props, seams(fetch));

    // Assess: the next diff sees the difference and updates in place.
    expect(result.props?.issuer).toEqual(stored);
    expect(diff(result.props ?? {}, sirvInputs())).toMatchObject({ changes: true, replaces: [] });
  });

  it('reports a stored value that is no longer a client document as drift, which the next up writes back', async () => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves({ ARN: arnOf('x') });
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'not a document' });
    const props = { ...sirvInputs(), prefix: 'token-rotator/' };

    // Act
    const result = await read('token-rotator/sirv-prod', props, seams(fetch));

    // Assess
    expect(result.props?.issuer).toEqual({});
    expect(diff(result.props ?? {}, sirvInputs())).toMatchObject({ changes: true, replaces: [] });
  });

  it('fails a refresh whose read of the client secret was throttled, rather than report no drift', async () => {
    // Prepare
    sm.on(DescribeSecretCommand).resolves({ ARN: arnOf('x') });
    sm.on(GetSecretValueCommand).rejects(
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
    );
    const props = { ...sirvInputs(), prefix: 'token-rotator/' };

    // Act
    const failure = read('token-rotator/sirv-prod', props, seams(fetch));

    // Assess
    await expect(failure).rejects.toThrow(
      /Credential "sirv-prod": Secrets Manager GetSecretValue failed with ThrottlingException/,
    );
  });

  it('reports no drift when the stored issuer only adds defaults or a generated key', async () => {
    sm.on(DescribeSecretCommand).resolves({ ARN: arnOf('x') });
    const stored = {
      kind: 'upload',
      subject: 'svc',
      ttlSeconds: 3600,
      privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----',
    };
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ version: 1, issuer: stored, policy: {} }) });
    const props = {
      name: 'upload-prod',
      prefix: 'token-rotator/',
      issuer: { kind: 'upload', subject: 'svc' },
      codeVersion: '0.1.0',
    };

    const result = await read('token-rotator/upload-prod', props, seams(fetch));

    expect(result.props?.issuer).toEqual({ kind: 'upload', subject: 'svc' });
  });

  it('updates in place when one of the two secrets is gone, deleting nothing, with no stable ARN', () => {
    const olds = { ...sirvInputs(), prefix: 'token-rotator/', tokenSecretArn: '', clientSecretArn: arnOf('c') };

    expect(diff(olds, { ...sirvInputs(), prefix: 'token-rotator/' })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
      stables: [],
    });
  });

  it('deletes both secrets with a 7-day recovery window by default, or at once with 0', async () => {
    sm.on(DeleteSecretCommand).resolves({});

    await remove({ name: 'sirv-prod', prefix: 'token-rotator/' }, seams(fetch));
    await remove({ name: 'sirv-prod', prefix: 'token-rotator/', recoveryWindowInDays: 0 }, seams(fetch));

    const calls = sm.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input);
    expect(calls.slice(0, 2)).toEqual([
      { SecretId: 'token-rotator/sirv-prod/token', RecoveryWindowInDays: 7 },
      { SecretId: 'token-rotator/sirv-prod/client', RecoveryWindowInDays: 7 },
    ]);
    expect(calls.slice(2).every((c) => c.ForceDeleteWithoutRecovery === true)).toBe(true);
  });
});
