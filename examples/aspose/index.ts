// pulumi config set clientId <App SID>
// pulumi config set --secret clientSecret <App Key>
// pulumi up
import * as pulumi from '@pulumi/pulumi';
import { ProviderCredential } from 'token-rotator';

const config = new pulumi.Config();

// Aspose Cloud: OAuth2 client credentials at /connect/token; 1-day tokens, refreshed after ~18 hours.
const aspose = new ProviderCredential('aspose-words', {
  issuer: { kind: 'aspose', clientId: config.require('clientId'), clientSecret: config.requireSecret('clientSecret') },
  policy: { refreshFraction: 0.75 },
  recoveryWindowInDays: 30,
});

export const tokenSecretArn = aspose.tokenSecretArn;
export const readPolicy = aspose.readPolicy;
