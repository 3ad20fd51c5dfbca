/**
 * The three issuers the demo talks to, on 127.0.0.1: the Sirv, Aspose and header-JWT contract fakes
 * from local-stack/fakes, on the demo's simulated clock, with short token lifetimes so that refreshes
 * happen within a minute of real time. (signed-jwt needs no issuer: the rotator mints its tokens.)
 *
 * oidc-provider is not used for the oauth2 kind here: it reads the real clock, so its tokens'
 * `exp` would fall behind an accelerated clock. The Aspose fake is an oauth2 issuer with a clock seam.
 */
import { randomBytes } from 'node:crypto';
import { type AsposeFake, startAsposeFake } from '../local-stack/fakes/aspose';
import { type HeaderJwtFake, startHeaderJwtFake } from '../local-stack/fakes/header-jwt';
import { type SirvFake, startSirvFake } from '../local-stack/fakes/sirv';

/** A client id and its secret, as one issuer knows it. */
export interface DemoClient {
  clientId: string;
  clientSecret: string;
}

/** The client of each issuer fake. */
export interface DemoClients {
  sirv: DemoClient;
  aspose: DemoClient;
  headerJwt: DemoClient;
}

/**
 * Token lifetimes in simulated seconds: minutes, not Sirv's 20 or Aspose's 24 hours, so that each
 * credential is refreshed a few times in a short run. Each one is well above the issuer layer's
 * MIN_USABLE_SECONDS (60), and above two schedule intervals (the default refresh margin).
 */
export const DEMO_LIFETIMES = {
  sirv: 300,
  aspose: 360,
  headerJwt: 240,
  upload: 300,
} as const;

/** Fresh clients with random secrets (never printed; they live only in the fakes and in moto). */
export function randomDemoClients(): DemoClients {
  const secret = () => randomBytes(24).toString('base64url');
  return {
    sirv: { clientId: 'demo-sirv-client', clientSecret: secret() },
    aspose: { clientId: '6F9619FF-8B86-D011-B42D-00C04FC964FF', clientSecret: secret() },
    headerJwt: { clientId: 'demo-header-client', clientSecret: secret() },
  };
}

/** The running fakes. */
export interface IssuerFakes {
  sirv: SirvFake;
  aspose: AsposeFake;
  headerJwt: HeaderJwtFake;
  /** Closes every fake; safe to call twice. */
  close(): Promise<void>;
}

/** Starts the three fakes on loopback ports chosen by the OS, reading time from `now`. */
export async function startIssuerFakes(now: () => Date, clients: DemoClients): Promise<IssuerFakes> {
  const started = await Promise.allSettled([
    startSirvFake({
      now,
      clients: { [clients.sirv.clientId]: clients.sirv.clientSecret },
      lifetimeSeconds: DEMO_LIFETIMES.sirv,
    }),
    startAsposeFake({
      now,
      clients: { [clients.aspose.clientId]: clients.aspose.clientSecret },
      lifetimeSeconds: DEMO_LIFETIMES.aspose,
    }),
    startHeaderJwtFake({
      now,
      clients: { [clients.headerJwt.clientId]: clients.headerJwt.clientSecret },
      lifetimeSeconds: DEMO_LIFETIMES.headerJwt,
    }),
  ]);
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(running.map((fake) => fake.close()));
    throw failed.reason;
  }
  const [sirv, aspose, headerJwt] = running as [SirvFake, AsposeFake, HeaderJwtFake];
  let closed: Promise<void> | undefined;
  return {
    sirv,
    aspose,
    headerJwt,
    close() {
      closed ??= Promise.allSettled([sirv.close(), aspose.close(), headerJwt.close()]).then(() => undefined);
      return closed;
    },
  };
}
