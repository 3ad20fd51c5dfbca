/**
 * The steps of a Sirv credential's life under the real pulumi CLI that the consumer suite (the
 * packed package in a TypeScript program) and the plugin suite (the plugin from YAML and Python)
 * share, and their teardown. Each function registers its tests (or its hook) with vitest where it
 * is called, so a suite keeps its own order and puts its own steps in between.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import type { SecretStore } from '../../core/store';
import { deleteCredentialSecrets, describeCredential, readClientSecret, readToken } from '../../core/store';
import type { TokenRecord } from '../../core/token';
import type { SirvFake } from '../../local-stack/fakes/sirv';
import { secretsManagerClient } from './aws';
import type { CommandRun, PulumiProject } from './pulumi-project';

/** What the steps need of a suite: values it makes in `beforeAll` are read through functions. */
export interface CredentialCycle {
  /** The credential's name. */
  name: string;
  /** The client secret the stack starts with, one the issuer refuses, and one it accepts later. */
  secret: string;
  wrongSecret: string;
  newSecret: string;
  clientId: string;
  /** The Sirv fake's client table (client id → secret), which a step changes. */
  clients: Record<string, string>;
  /** Every secret and token of the run, which no printed output, state or output may hold. */
  planted: Set<string>;
  /** The suite's Sirv fake and project; throws when `beforeAll` has not made it. */
  sirv(): SirvFake;
  project(): PulumiProject;
  /** What `beforeAll` has made so far (all of it unless it failed), for the teardown. */
  made(): { sirv?: SirvFake | undefined; project?: PulumiProject | undefined };
  where(): SecretStore;
  /** The stored token of credential `name` (default: {@link name}), its access token added to {@link planted}. */
  storedToken(name?: string): Promise<TokenRecord | undefined>;
  /** `pulumi up --yes …` as the suite runs it. */
  up(...args: string[]): Promise<CommandRun>;
  pulumi(...args: string[]): Promise<CommandRun>;
}

/**
 * A cycle's planted values (each prefixed with `label`, random per run), the fake's client table
 * holding the first secret, and the commands, for a suite whose project and fake are made in
 * `beforeAll` (read through `project` and `sirv`). `upArgs` follow `pulumi up --yes`.
 */
export function credentialCycle(options: {
  label: string;
  name: string;
  prefix: string;
  upArgs?: string[];
  project: () => PulumiProject | undefined;
  sirv: () => SirvFake | undefined;
}): CredentialCycle {
  const { label, name, prefix } = options;
  const made = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`credential cycle "${label}": no ${what}; did the suite's beforeAll fail?`);
    return value;
  };
  const project = () => made(options.project(), 'project');
  const clientId = `${label}-${randomUUID().slice(0, 8)}`;
  const secret = `${label}-secret-${randomUUID()}`;
  const wrongSecret = `${label}-wrong-secret-${randomUUID()}`;
  const newSecret = `${label}-new-secret-${randomUUID()}`;
  const planted = new Set([secret, wrongSecret, newSecret]);
  const where = () => ({ client: secretsManagerClient(), prefix });
  return {
    name,
    secret,
    wrongSecret,
    newSecret,
    clientId,
    clients: { [clientId]: secret },
    planted,
    sirv: () => made(options.sirv(), 'Sirv fake'),
    project,
    made: () => ({ sirv: options.sirv(), project: options.project() }),
    where,
    async storedToken(credential = name) {
      const token = await readToken(where(), credential);
      if (token) planted.add(token.accessToken);
      return token;
    },
    up: (...args) => project().run(['pulumi', 'up', '--yes', ...(options.upArgs ?? []), ...args]),
    pulumi: (...args) => project().run(['pulumi', ...args]),
  };
}

/**
 * Registers the suite's teardown: the stack destroyed and its directory removed, then the secrets
 * of the credentials `names` (default: the cycle's) deleted without recovery, whatever a failed
 * step left (a destroy only schedules their deletion), and the Sirv fake closed.
 */
export function afterAllTearsDown(cycle: CredentialCycle, names: readonly string[] = [cycle.name]): void {
  afterAll(async () => {
    const { project, sirv } = cycle.made();
    await project?.destroyAndDispose();
    for (const name of names) {
      await deleteCredentialSecrets(cycle.where(), name, { forceDeleteWithoutRecovery: true }).catch(() => undefined);
    }
    await sirv?.close();
  }, 300_000);
}

/** A second `up` changes nothing and asks the issuer for nothing. */
export function itChangesNothingOnASecondUp(cycle: CredentialCycle): void {
  it('a second pulumi up changes nothing and asks the issuer for nothing', async () => {
    // Act
    const run = await cycle.up('--expect-no-changes');
    // Assess
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/2 unchanged/);
    expect(cycle.sirv().tokensIssued).toBe(1);
    expect(await cycle.storedToken()).toMatchObject({ generation: 1 });
  });
}

/**
 * A new client secret: refused by the issuer, the update fails and changes nothing; accepted, it
 * updates the credential with a fresh token. Then a refresh finds no drift.
 */
export function itChangesTheClientSecret(cycle: CredentialCycle): void {
  it('a wrong new client secret fails the update, names the credential and changes nothing', async () => {
    // Prepare
    await cycle.project().ok(['pulumi', 'config', 'set', '--secret', 'sirvClientSecret', cycle.wrongSecret]);
    const before = await cycle.storedToken();
    // Act
    const run = await cycle.up();
    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toContain(cycle.name);
    expect((await readClientSecret(cycle.where(), cycle.name)).document.issuer).toMatchObject({
      clientSecret: cycle.secret,
    });
    expect(await cycle.storedToken()).toEqual(before);
    expect(cycle.sirv().tokensIssued).toBe(1);
  });

  it('a new client secret the issuer accepts updates the credential', async () => {
    // Prepare: the vendor now knows the new secret only.
    cycle.clients[cycle.clientId] = cycle.newSecret;
    await cycle.project().ok(['pulumi', 'config', 'set', '--secret', 'sirvClientSecret', cycle.newSecret]);
    // Act
    const run = await cycle.up();
    // Assess
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/1 updated/);
    expect((await readClientSecret(cycle.where(), cycle.name)).document.issuer).toMatchObject({
      clientSecret: cycle.newSecret,
    });
    expect(cycle.sirv().tokensIssued).toBe(2);
    expect((await cycle.storedToken())?.generation).toBeGreaterThan(1);
  });

  it('pulumi refresh finds no drift', async () => {
    // Act
    const refresh = await cycle.pulumi('refresh', '--yes');
    const preview = await cycle.pulumi('preview', '--expect-no-changes');
    // Assess
    expect(refresh.code, refresh.stdout + refresh.stderr).toBe(0);
    expect(preview.code, preview.stdout + preview.stderr).toBe(0);
  });
}

/** `destroy` schedules both secrets for deletion; the next `up` makes them again, with a third token. */
export function itDestroysAndMakesAgain(cycle: CredentialCycle): void {
  it('pulumi destroy schedules both secrets for deletion, and pulumi up brings them back', async () => {
    // Act
    const destroy = await cycle.pulumi('destroy', '--yes');
    const gone = await describeCredential(cycle.where(), cycle.name);
    const again = await cycle.up();
    // Assess
    expect(destroy.code, destroy.stdout + destroy.stderr).toBe(0);
    expect(gone.client.deletedDate ?? !gone.client.exists).toBeTruthy();
    expect(gone.token.deletedDate ?? !gone.token.exists).toBeTruthy();
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/2 created/);
    const back = await describeCredential(cycle.where(), cycle.name);
    expect(back.client).toMatchObject({ exists: true, deletedDate: undefined });
    expect(back.token).toMatchObject({ exists: true, deletedDate: undefined });
    expect(cycle.sirv().tokensIssued).toBe(3);
    await cycle.storedToken();
  });
}

/**
 * No planted value in the exported state, the outputs (secrets shown), the backend's files or
 * anything any command printed. The minimums prove the check looked at what the suite made.
 */
export function itLeaksNoPlantedValue(cycle: CredentialCycle, least: { planted: number; sources: number }): void {
  it('no planted secret or token is in the state, the outputs or anything printed', async () => {
    // Act
    const project = cycle.project();
    const exported = await project.ok(['pulumi', 'stack', 'export']);
    const outputs = await project.ok(['pulumi', 'stack', 'output', '--json', '--show-secrets']);
    const sources = [
      { command: 'pulumi stack export', output: exported.stdout },
      { command: 'pulumi stack output --show-secrets', output: outputs.stdout },
      { command: '(the backend files and Pulumi.dev.yaml)', output: await project.stateFiles() },
      ...project.printed(),
    ];
    // Assess
    expect(cycle.planted.size).toBeGreaterThanOrEqual(least.planted);
    expect(sources.length).toBeGreaterThan(least.sources);
    for (const { command, output } of sources) {
      for (const value of cycle.planted) {
        expect(output.includes(value), `${command} printed a planted value`).toBe(false);
      }
    }
    expect(exported.stdout).toContain('4dabf18193072939515e22adb298388d'); // Pulumi's secret signature
  });
}
