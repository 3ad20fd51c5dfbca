// pulumi up            (a signing key is generated and kept in the client secret)
// or bring your own:   pulumi config set --secret privateKeyPem < upload-key.pem
import * as pulumi from '@pulumi/pulumi';
import { ProviderCredential } from 'token-rotator';

const config = new pulumi.Config();
const privateKeyPem = config.getSecret('privateKeyPem');

// Upload/Bytescale: no request; an RS256 JWT {sub, iat, exp, access} minted with our own key.
const upload = new ProviderCredential('upload-users', {
  issuer: {
    kind: 'upload',
    subject: config.get('subject') ?? 'platform-service',
    ttlSeconds: 3600,
    ...(privateKeyPem ? { privateKeyPem } : {}),
    access: {
      pathPermissions: [
        { match: { path: '/users', scope: 'Children' }, permissions: { read: { file: { downloadFile: ['*'] } } } },
      ],
    },
  },
});

export const tokenSecretArn = upload.tokenSecretArn;
/** Add this certificate to your account in the Upload dashboard. */
export const publicKeyPem = upload.publicKeyPem;
