import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkInputs, UNKNOWN } from '../../../provider/inputs';
import { checkForPulumi } from '../../../provider/runtime';

const SECRET = 'planted-client-secret-7f3a9c';
const pkcs8 = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();
// A real key: check now reads the key as create does, so a truncated one is refused.
const PEM = pkcs8(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
const RSA_1024 = pkcs8(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
const EC_KEY = pkcs8(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const TRUNCATED =
  '-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----';

const sirv = (overrides: Record<string, unknown> = {}) => ({
  name: 'sirv-prod',
  issuer: { kind: 'sirv', clientId: 'ZcnZNfzwRhQExoHFoGpxWJ4p2R', clientSecret: SECRET, ...overrides },
  aws: { region: 'us-east-1' },
  codeVersion: '0.1.0',
});

const withTop = (overrides: Record<string, unknown>) => ({ ...sirv(), ...overrides });

// Each row: a description, the inputs, the property the failure must name, and a phrase of its reason.
const invalid: [string, Record<string, unknown>, string, RegExp][] = [
  ['a missing client id', sirv({ clientId: undefined }), 'issuer.clientId', /clientId/],
  ['an empty client id', sirv({ clientId: '  ' }), 'issuer.clientId', /non-empty clientId/],
  ['a missing client secret', sirv({ clientSecret: undefined }), 'issuer.clientSecret', /clientSecret/],
  ['a too short client secret', sirv({ clientSecret: 'abc' }), 'issuer.clientSecret', /at least 8/],
  ['a non-https URL', sirv({ url: 'http://api.sirv.example/v2/token' }), 'issuer.url', /https:\/\//],
  ['a URL that is not a URL', sirv({ url: 'not a url' }), 'issuer.url', /absolute URL/],
  [
    'an ftp URL even with allowInsecureHttp',
    sirv({ url: 'ftp://x.example/t', allowInsecureHttp: true }),
    'issuer.url',
    /https:\/\//,
  ],
  [
    'a bad kind',
    { ...sirv(), issuer: { kind: 'magic', clientId: 'a', clientSecret: SECRET } },
    'issuer.kind',
    /unknown kind "magic"; Expected one of sirv, aspose, upload/,
  ],
  ['a missing issuer', { name: 'x', codeVersion: '1' }, 'issuer', /expected an issuer object/],
  ['an unknown issuer field', sirv({ clientSecert: 'typo-value' }), 'issuer', /unknown field.*clientSecert/],
  ['an unknown top-level field', withTop({ rotatorFunctoinName: 'f' }), 'rotatorFunctoinName', /unknown field/],
  [
    'a negative TTL',
    { ...sirv(), issuer: { kind: 'upload', subject: 'svc', ttlSeconds: -5 } },
    'issuer.ttlSeconds',
    /greater than 0/,
  ],
  [
    'a fractional TTL',
    { ...sirv(), issuer: { kind: 'signed-jwt', subject: 'svc', ttlSeconds: 1.5 } },
    'issuer.ttlSeconds',
    /whole number/,
  ],
  [
    'a malformed PEM',
    { ...sirv(), issuer: { kind: 'upload', subject: 'svc', privateKeyPem: 'MIIEvQ-not-a-pem' } },
    'issuer.privateKeyPem',
    /PEM private key/,
  ],
  [
    'a policy under the write budget',
    withTop({ policy: { refreshFraction: 0.3 } }),
    'policy',
    /Raise policy\.refreshFraction to at least 0\.61 \(it is 0\.3\); or set policy\.allowFrequentWrites: true/,
  ],
  ['a refreshFraction of 1', withTop({ policy: { refreshFraction: 1 } }), 'policy.refreshFraction', /below 1/],
  ['an unknown policy field', withTop({ policy: { refreshFractoin: 0.8 } }), 'policy', /unknown field/],
  ['an oversized name', withTop({ name: 'x'.repeat(65) }), 'name', /at most 64/],
  ['a name with a slash', withTop({ name: 'team/sirv' }), 'name', /letters, digits/],
  ['a prefix without a trailing slash', withTop({ prefix: 'tokens' }), 'prefix', /ending with "\/"/],
  ['a recovery window of 3 days', withTop({ recoveryWindowInDays: 3 }), 'recoveryWindowInDays', /7 to 30/],
  ['a reserved tag key', withTop({ tags: { 'token-rotator:owner': 'me' } }), 'tags.token-rotator:owner', /reserved/],
  [
    'an unknown oauth2 auth method',
    {
      ...sirv(),
      issuer: {
        kind: 'oauth2',
        tokenUrl: 'https://i.example/token',
        clientId: 'a',
        clientSecret: SECRET,
        authMethod: 'client_secret_jwt',
      },
    },
    'issuer.authMethod',
    /client_secret_post/,
  ],
  [
    'a header-jwt method other than GET or POST',
    {
      ...sirv(),
      issuer: {
        kind: 'header-jwt',
        url: 'https://h.example/auth/jwt',
        clientId: 'a',
        clientSecret: SECRET,
        method: 'PUT',
      },
    },
    'issuer.method',
    /"GET" or "POST"/,
  ],
  [
    'an invalid header name',
    {
      ...sirv(),
      issuer: {
        kind: 'header-jwt',
        url: 'https://h.example/auth/jwt',
        clientId: 'a',
        clientSecret: SECRET,
        clientIdHeader: 'client id',
      },
    },
    'issuer.clientIdHeader',
    /header name/,
  ],
  [
    'a json kind with a too short lifetime for the budget',
    {
      ...sirv(),
      issuer: {
        kind: 'json',
        url: 'https://j.example/t',
        clientId: 'a',
        clientSecret: SECRET,
        defaultLifetimeSeconds: 300,
      },
    },
    'policy',
    /every 10 minutes, sustained\. Raise issuer\.defaultLifetimeSeconds to at least 943 s/,
  ],
  [
    'no region',
    withTop({ aws: {} }),
    'aws.region',
    /no AWS region.*pulumi config set aws:region.*region to ProviderCredential/,
  ],
  ['a region that is no region', withTop({ aws: { region: 'us east' } }), 'aws.region', /AWS region name/],
  [
    'a role ARN that is no role ARN',
    withTop({ aws: { region: 'us-east-1', assumeRoles: [{ roleArn: 'deployer' }] } }),
    'aws.assumeRoles.0.roleArn',
    /IAM role ARN/,
  ],
  [
    'a kind typo',
    { ...sirv(), issuer: { kind: 'sirb', clientId: 'a', clientSecret: SECRET } },
    'issuer.kind',
    /unknown kind "sirb"; did you mean "sirv"\? Expected one of sirv, aspose/,
  ],
  [
    'a kind in another case',
    { ...sirv(), issuer: { kind: 'OAuth2', clientId: 'a', clientSecret: SECRET } },
    'issuer.kind',
    /did you mean "oauth2"/,
  ],
  [
    'a malformed rotator function name',
    withTop({ rotatorFunctionName: 'my function!' }),
    'rotatorFunctionName',
    /Lambda function name/,
  ],
];

describe('ProviderCredential check', () => {
  it.each(invalid)('rejects %s, naming the field', (_what, news, property, reason) => {
    // Act
    const { failures } = checkInputs(news);

    // Assess
    const failure = failures.find((f) => f.property === property);
    expect(failure, JSON.stringify(failures)).toBeDefined();
    expect(failure?.reason).toMatch(reason);
    expect(JSON.stringify(failures)).not.toContain(SECRET);
    expect(JSON.stringify(failures)).not.toContain('typo-value');
  });

  it.each([
    ['an EC key', EC_KEY, /RS256 needs an RSA key/],
    ['an RSA-1024 key', RSA_1024, /at least 2048/],
    ['a malformed key', TRUNCATED, /could not be read/],
  ])('refuses %s at check, as create would, without quoting it', (_what, privateKeyPem, reason) => {
    const { failures } = checkInputs({ ...sirv(), issuer: { kind: 'upload', subject: 'svc', privateKeyPem } });
    expect(failures).toEqual([{ property: 'issuer.privateKeyPem', reason: expect.stringMatching(reason) }]);
    expect(JSON.stringify(failures)).not.toContain(privateKeyPem.split('\n')[1] ?? 'unreachable');
  });

  it('covers at least twenty distinct invalid inputs', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(20);
  });

  it('accepts each preset and base kind with its minimal inputs', () => {
    const ok = [
      sirv(),
      { ...sirv(), issuer: { kind: 'aspose', clientId: 'app-sid', clientSecret: SECRET } },
      { ...sirv(), issuer: { kind: 'upload', subject: 'svc' } },
      { ...sirv(), issuer: { kind: 'upload', subject: 'svc', privateKeyPem: PEM } },
      {
        ...sirv(),
        issuer: {
          kind: 'oauth2',
          tokenUrl: 'https://i.example/token',
          clientId: 'a',
          clientSecret: SECRET,
          scope: ['a', 'b'],
        },
      },
      {
        ...sirv(),
        issuer: {
          kind: 'header-jwt',
          url: 'https://h.example/auth/jwt',
          clientId: 'a',
          clientSecret: SECRET,
          method: 'POST',
        },
      },
      {
        ...sirv(),
        issuer: {
          kind: 'json',
          url: 'http://127.0.0.1:8080/t',
          allowInsecureHttp: true,
          clientId: 'a',
          clientSecret: SECRET,
        },
      },
    ];
    for (const news of ok) expect(checkInputs(news).failures, JSON.stringify(news.issuer.kind)).toEqual([]);
  });

  it('lets a frequent-write policy through when allowFrequentWrites is set', () => {
    expect(checkInputs(withTop({ policy: { refreshFraction: 0.3, allowFrequentWrites: true } })).failures).toEqual([]);
  });

  it('does not judge values that are unknown during preview', () => {
    const news = { ...sirv(), issuer: { kind: 'sirv', clientId: UNKNOWN, clientSecret: UNKNOWN }, tags: UNKNOWN };
    expect(checkInputs(news).failures).toEqual([]);
  });

  it('refuses a 100 s token naming its lifetime field and the default margin as a default', () => {
    // Act
    const { failures } = checkInputs({ ...sirv(), issuer: { kind: 'upload', subject: 'svc', ttlSeconds: 100 } });

    // Assess: one refusal that covers the margin and the write budget at once.
    expect(failures).toEqual([
      {
        property: 'policy',
        reason:
          'Credential "sirv-prod": its tokens live 100 s (issuer.ttlSeconds), too short for the refresh policy: each ' +
          'token would be due before it is written: the refresh margin is 120 s (by default two rotator intervals of 60 s). ' +
          'Raise issuer.ttlSeconds to at least 943 s; or set policy.minMarginSeconds below 100 with ' +
          'policy.allowFrequentWrites: true, accepting throttling and version churn.',
      },
    ]);
  });

  it('names a margin the user set as theirs', () => {
    const { failures } = checkInputs({
      ...sirv(),
      issuer: { kind: 'upload', subject: 'svc', ttlSeconds: 3600 },
      policy: { minMarginSeconds: 3600 },
    });
    expect(failures[0]?.reason).toMatch(/the refresh margin is 3600 s \(policy\.minMarginSeconds\)/);
    expect(failures[0]?.reason).toMatch(/Raise issuer\.ttlSeconds to at least 4260 s/);
  });

  it('accepts the lifetime it advises', () => {
    const at = (ttlSeconds: number) =>
      checkInputs({ ...sirv(), issuer: { kind: 'upload', subject: 'svc', ttlSeconds } }).failures;
    expect(at(943)).toEqual([]);
    expect(at(942)).toHaveLength(1);
  });

  describe('a preset whose token lifetime its vendor sets', () => {
    const salesforce = (issuer: Record<string, unknown> = {}, policy?: Record<string, unknown>) => ({
      ...sirv(),
      name: 'sf-prod',
      issuer: {
        kind: 'salesforce',
        clientId: '3MVG9-consumer-key',
        username: 'integration@example.com',
        privateKeyPem: PEM,
        ...issuer,
      },
      ...(policy === undefined ? {} : { policy }),
    });

    it('refuses a salesforce policy that breaks the write budget at check, naming the default session timeout', () => {
      // Act: Salesforce states no expires_in, so its tokens live the default 2 hours unless told otherwise.
      const { failures } = checkInputs(salesforce({}, { refreshFraction: 0.1 }));

      // Assess
      expect(failures).toEqual([
        {
          property: 'policy',
          reason:
            'Credential "sf-prod": its tokens live 7200 s (the default issuer.defaultLifetimeSeconds, Salesforce\'s ' +
            'default session timeout), too short for the refresh policy: the token secret would be written every 300 s, ' +
            'but Secrets Manager allows one PutSecretValue per secret every 10 minutes, sustained. Raise ' +
            'issuer.defaultLifetimeSeconds to at least 13200 s; or raise policy.refreshFraction to at least 0.15 (it is ' +
            '0.1); or set policy.allowFrequentWrites: true to accept throttling and version churn.',
        },
      ]);
    });

    it('judges a salesforce session timeout the user set, and accepts the default policy', () => {
      expect(checkInputs(salesforce({ defaultLifetimeSeconds: 900 })).failures[0]?.reason).toMatch(
        /its tokens live 900 s \(issuer\.defaultLifetimeSeconds\).*Raise issuer\.defaultLifetimeSeconds to at least 943 s/,
      );
      expect(checkInputs(salesforce()).failures).toEqual([]);
    });

    it("judges google-service-account against Google's one-hour token, which no field changes", () => {
      const google = {
        ...sirv(),
        issuer: {
          kind: 'google-service-account',
          clientEmail: 'rotator@project.iam.gserviceaccount.com',
          scope: 'https://www.googleapis.com/auth/cloud-platform',
          privateKeyPem: PEM,
        },
      };
      const reason = checkInputs({ ...google, policy: { refreshFraction: 0.2 } }).failures[0]?.reason;
      expect(reason).toMatch(/its tokens live 3600 s \(Google's token lifetime\)/);
      expect(reason).toMatch(/Raise policy\.refreshFraction to at least 0\.24 \(it is 0\.2\)/);
      expect(reason).not.toMatch(/issuer\./);
      expect(checkInputs(google).failures).toEqual([]);
    });
  });

  it('fills in the default prefix', () => {
    expect(checkInputs(sirv()).inputs.prefix).toBe('token-rotator/');
  });
});

describe('ProviderCredential check as Pulumi shows it', () => {
  it('returns every failure without a property, its reason naming the credential and the field', () => {
    // Act
    const { failures } = checkForPulumi({
      ...sirv(),
      name: 'sirv-prod',
      issuer: { kind: 'sirb', clientId: 'a', clientSecret: SECRET },
      aws: {},
    });

    // Assess: an empty property makes the engine print "has a problem: <reason>", not "value {<nil>}".
    expect(failures).toEqual([
      {
        property: '',
        reason: expect.stringMatching(
          /^Credential "sirv-prod": issuer\.kind: unknown kind "sirb"; did you mean "sirv"\?/,
        ),
      },
      {
        property: '',
        reason: expect.stringMatching(/^Credential "sirv-prod": aws\.region: no AWS region .*aws:region/),
      },
    ]);
    expect(JSON.stringify(failures)).not.toContain(SECRET);
  });

  it('does not name the credential twice in a reason that already does', () => {
    const { failures } = checkForPulumi({ ...sirv(), issuer: { kind: 'upload', subject: 'svc', ttlSeconds: 100 } });
    expect(failures[0]?.reason).toMatch(/^Credential "sirv-prod": its tokens live 100 s/);
  });
});
