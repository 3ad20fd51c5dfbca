// pulumi config set clientId ZcnZNfzwRhQExoHFoGpxWJ4p2R
// pulumi config set --secret clientSecret 'TM3d0CfX…'
// pulumi up
import * as pulumi from '@pulumi/pulumi';
import { ProviderCredential } from 'token-rotator';

const config = new pulumi.Config();

// Sirv: POST /v2/token with {clientId, clientSecret}; 20-minute tokens, refreshed after ~15 minutes.
const sirv = new ProviderCredential('sirv-prod', {
  issuer: { kind: 'sirv', clientId: config.require('clientId'), clientSecret: config.requireSecret('clientSecret') },
  // Ask the rotator Lambda for the first token when Sirv is reachable only from its network.
  rotatorFunctionName: config.get('rotatorFunctionName'),
  tags: { team: 'media' },
});

export const tokenSecretArn = sirv.tokenSecretArn;
/** Attach to the workload's role: GetSecretValue on this token secret only. */
export const readPolicy = sirv.readPolicy;
