import { importSPKI, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { obtainToken } from '../../../core/issuers';
import { ASPOSE_CLIENT, type AsposeFake, startAsposeFake } from '../../../local-stack/fakes/aspose';

describe('aspose fake and the aspose preset', () => {
  let aspose: AsposeFake;
  beforeAll(async () => {
    aspose = await startAsposeFake();
  });
  afterAll(async () => {
    await aspose.close();
  });
  const obtain = () =>
    obtainToken(
      { kind: 'aspose', tokenUrl: aspose.tokenUrl, allowInsecureHttp: true, ...ASPOSE_CLIENT },
      { credential: 'aspose-it' },
    );

  it('sends the seed request and gets an RS256 JWT valid one day', async () => {
    // Act
    const token = await obtain();
    // Assess
    const request = aspose.requests.at(-1);
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.headers.accept).toBe('application/json');
    expect(request?.body).toEqual({
      grant_type: 'client_credentials',
      client_id: ASPOSE_CLIENT.clientId,
      client_secret: ASPOSE_CLIENT.clientSecret,
    });
    const { payload } = await jwtVerify(token.accessToken, await importSPKI(aspose.publicKeyPem, 'RS256'));
    expect(payload.client_id).toBe(ASPOSE_CLIENT.clientId);
    expect(token.expiresAt.getTime() - token.issuedAt.getTime()).toBeGreaterThan(86_398_000);
  });

  it('copes with expires_in as a string and token_type "bearer"', async () => {
    aspose.setQuirks({ expiresInAsString: true, lowercaseTokenType: true });
    const token = await obtain();
    aspose.setQuirks({ expiresInAsString: false, lowercaseTokenType: false });
    expect(token.tokenType).toBe('Bearer');
    expect(token.expiresAt.getTime() - token.issuedAt.getTime()).toBeGreaterThan(86_398_000);
  });

  it("maps IdentityServer's 400 invalid_client to InvalidCredentials", async () => {
    const error = obtainToken(
      {
        kind: 'aspose',
        tokenUrl: aspose.tokenUrl,
        allowInsecureHttp: true,
        clientId: ASPOSE_CLIENT.clientId,
        clientSecret: 'wrong-app-key',
      },
      { credential: 'aspose-it' },
    );
    await expect(error).rejects.toMatchObject({ code: 'InvalidCredentials', status: 400, reason: 'invalid_client' });
  });

  it('refuses client_secret_basic, which Aspose does not read, as invalid_client', async () => {
    const error = obtainToken(
      {
        kind: 'oauth2',
        tokenUrl: aspose.tokenUrl,
        allowInsecureHttp: true,
        authMethod: 'client_secret_basic',
        ...ASPOSE_CLIENT,
      },
      { credential: 'aspose-it' },
    );
    await expect(error).rejects.toMatchObject({ code: 'InvalidCredentials', reason: 'invalid_client' });
  });
});
