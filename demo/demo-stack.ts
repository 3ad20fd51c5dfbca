/**
 * The demo's Pulumi program: one ProviderCredential per issuer kind, pointed at the loopback fakes.
 * It is what a platform repo would write, with three demo-only settings, each commented below.
 */
import * as pulumi from '@pulumi/pulumi';
import { SCHEDULE_INTERVAL_SECONDS } from '../core/schedule-interval';
import { ProviderCredential } from '../provider/resource';
import { demoSigningKeyAlias, ensureDemoSigningKey } from './demo-signing-key';
import { DEMO_LIFETIMES, type DemoClients, type IssuerFakes } from './issuer-fakes';

/** The demo's credentials, in table order, with the issuer kind each one uses. */
export const DEMO_CREDENTIALS = [
  { name: 'sirv-demo', kind: 'sirv' },
  { name: 'aspose-demo', kind: 'aspose' },
  { name: 'header-jwt-demo', kind: 'header-jwt' },
  { name: 'upload-demo', kind: 'upload' },
] as const;

/** Stack config keys of the client secrets (set as Pulumi secrets, encrypted with the passphrase). */
export const SECRET_CONFIG_KEYS = {
  sirv: 'sirvClientSecret',
  aspose: 'asposeClientSecret',
  headerJwt: 'headerJwtClientSecret',
} as const;

/**
 * The demo's refresh policy. Its tokens live a few simulated minutes, so each token secret is
 * written every few minutes: more often than Secrets Manager's sustained budget of one write per
 * 10 minutes, which `pulumi up` refuses unless told otherwise. A demo on moto may; a real
 * deployment with such short tokens should think twice (README, "Limits").
 */
export const DEMO_POLICY = {
  allowFrequentWrites: true,
  scheduleIntervalSeconds: SCHEDULE_INTERVAL_SECONDS.default,
} as const;

/** Where the program's credentials live and whom they talk to. */
export interface DemoStackSettings {
  prefix: string;
  fakes: Pick<IssuerFakes, 'sirv' | 'aspose' | 'headerJwt'>;
  clients: DemoClients;
}

/**
 * The inline program. Client ids are plain config, client secrets come from secret config, like a
 * platform repo's program; `allowInsecureHttp` because the fakes listen on plain http on loopback.
 */
export function demoProgram(settings: DemoStackSettings): pulumi.automation.PulumiFn {
  const { prefix, fakes, clients } = settings;
  return async () => {
    const cfg = new pulumi.Config();
    // recoveryWindowInDays 0: `pulumi destroy` deletes the secrets at once, leaving nothing behind.
    const common = { prefix, policy: DEMO_POLICY, recoveryWindowInDays: 0 };
    // Upload's signing key lives in (local) KMS: the private key is never stored anywhere.
    const signingKeyArn = await ensureDemoSigningKey(demoSigningKeyAlias(prefix));
    const credentials = [
      new ProviderCredential('sirv-demo', {
        ...common,
        issuer: {
          kind: 'sirv',
          url: fakes.sirv.tokenUrl,
          allowInsecureHttp: true,
          clientId: clients.sirv.clientId,
          clientSecret: cfg.requireSecret(SECRET_CONFIG_KEYS.sirv),
        },
      }),
      new ProviderCredential('aspose-demo', {
        ...common,
        issuer: {
          kind: 'aspose',
          tokenUrl: fakes.aspose.tokenUrl,
          allowInsecureHttp: true,
          clientId: clients.aspose.clientId,
          clientSecret: cfg.requireSecret(SECRET_CONFIG_KEYS.aspose),
        },
      }),
      new ProviderCredential('header-jwt-demo', {
        ...common,
        issuer: {
          kind: 'header-jwt',
          url: fakes.headerJwt.tokenUrl,
          method: 'POST',
          allowInsecureHttp: true,
          clientId: clients.headerJwt.clientId,
          clientSecret: cfg.requireSecret(SECRET_CONFIG_KEYS.headerJwt),
        },
      }),
      // No issuer to call: KMS signs, the rotator mints the tokens, `publicKeyPem` comes from KMS.
      new ProviderCredential('upload-demo', {
        ...common,
        issuer: {
          kind: 'upload',
          subject: 'demo-workload',
          kms: { keyId: signingKeyArn },
          ttlSeconds: DEMO_LIFETIMES.upload,
          access: { tagPermissions: { write: ['*'] } },
        },
      }),
    ];
    return Object.fromEntries(
      credentials.map((c, i) => [`${DEMO_CREDENTIALS[i]?.name}.tokenSecretName`, c.tokenSecretName]),
    );
  };
}
