// pulumi config set url https://api.vendor.example/auth/jwt
// pulumi config set clientId <client id>
// pulumi config set --secret clientSecret <client secret>
import * as pulumi from '@pulumi/pulumi';
import { ProviderCredential } from 'token-rotator';

const config = new pulumi.Config();

// client-id / client-secret request headers; the JWT comes back in the Authorization header (1 hour).
const vendor = new ProviderCredential('vendor-api', {
  issuer: {
    kind: 'header-jwt',
    url: config.require('url'),
    // The vendor's document says GET while its example uses POST: set what your vendor answers.
    method: 'GET',
    clientId: config.require('clientId'),
    clientSecret: config.requireSecret('clientSecret'),
  },
});

export const tokenSecretArn = vendor.tokenSecretArn;
export const readPolicy = vendor.readPolicy;
