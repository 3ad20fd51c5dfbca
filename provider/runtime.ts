/**
 * What the ProviderCredential dynamic provider does, as plain functions with seams: the module the
 * serialized provider (provider.ts) loads by name inside each method, so nothing here is captured
 * into Pulumi state. `check` and `diff` are here; the operations that reach AWS and the issuer are
 * in operations.ts, loaded at their first call.
 */
import { DEFAULT_PREFIX } from '../core/token';
import type { ProviderSeams } from './aws-clients';
import { recordedSettings } from './aws-settings';
import { type CheckFailure, type CredentialInputs, checkInputs, containsUnknown } from './inputs';
import { sameValue } from './same-value';

export type { ProviderSeams };

/**
 * What the provider returns: the inputs and what only the provider knows. The secret names and the
 * read policy follow from these; the resource class (and the plugin) derive them, so the state does
 * not carry them: each property costs the engine work for each credential on each preview. `issuer`
 * is marked secret by the resource class.
 */
export interface CredentialOutputs extends CredentialInputs {
  tokenSecretArn: string;
  clientSecretArn: string;
  /** For kinds that sign (signed-jwt, private_key_jwt, jwt-bearer): the public key to register with the service. */
  publicKeyPem?: string | undefined;
  /** For kinds that sign RFC 7523 assertions: the same key as a JWKS (JSON), `kid` as the assertions carry it. */
  publicJwks?: string | undefined;
}

/** `check`: validate every input, naming each field at fault. */
export function check(news: Record<string, unknown>): { inputs: Record<string, unknown>; failures: CheckFailure[] } {
  return checkInputs(news);
}

/**
 * `check` as the Pulumi engine shows it: each failure is returned without a property, so the
 * engine prints the reason alone ("… resource 'sirv-prod' has a problem: Credential "sirv-prod":
 * issuer.kind: …") rather than prefixing the property's value, which it cannot look up for a
 * nested field and renders as `value {<nil>}`. The reason names the credential and the field.
 */
export function checkForPulumi(news: Record<string, unknown>): {
  inputs: Record<string, unknown>;
  failures: CheckFailure[];
} {
  const { inputs, failures } = checkInputs(news);
  const name = typeof news.name === 'string' ? news.name : '?';
  return {
    inputs,
    failures: failures.map((f) => ({
      property: '',
      reason: f.reason.startsWith('Credential "') ? f.reason : `Credential "${name}": ${f.property}: ${f.reason}`,
    })),
  };
}

const REPLACING_FIELDS = ['name', 'prefix'] as const;
const UPDATING_FIELDS = [
  'issuer',
  'clientSecretSource',
  'policy',
  'rotatorFunctionName',
  'recoveryWindowInDays',
  'tags',
  'kmsKeyId',
  'aws',
  'codeVersion',
] as const;

/**
 * `diff`: a new name, prefix or region replaces the credential (new secrets: the new pair is made
 * before the old is deleted, the old one from where the state says it is). A new profile or role
 * updates in place (`update` checks that it reaches the same secrets). Everything else updates in
 * place, a new issuer kind included: the secret names do not depend on the kind, and an update
 * validates the new configuration against the issuer before it writes anything, where a
 * delete-before-replace would take the working credential down before the new one is known to work.
 */
export function diff(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean; stables: string[] } {
  const replaces: string[] = REPLACING_FIELDS.filter(
    (f) => !sameValue(olds[f] ?? defaultOf(f), news[f] ?? defaultOf(f)),
  );
  // A state written before settings were recorded still names its region in the secrets' ARNs.
  const oldRegion = recordedSettings(olds).region;
  const newRegion = (news.aws as { region?: unknown } | undefined)?.region;
  if (oldRegion && typeof newRegion === 'string' && !containsUnknown(newRegion) && newRegion !== oldRegion) {
    replaces.push('aws');
  }
  const updates: string[] = UPDATING_FIELDS.filter((f) => !sameValue(olds[f], news[f]));
  // `read` found one of the two secrets gone: `update` makes it again beside the surviving one.
  const halfMissing = olds.tokenSecretArn === '' || olds.clientSecretArn === '';
  if (halfMissing) updates.push(olds.tokenSecretArn === '' ? 'tokenSecretArn' : 'clientSecretArn');
  return {
    changes: replaces.length > 0 || updates.length > 0,
    replaces,
    deleteBeforeReplace: false,
    stables: replaces.length === 0 && !halfMissing ? ['tokenSecretArn', 'clientSecretArn'] : [],
  };
}

function defaultOf(field: string): unknown {
  return field === 'prefix' ? DEFAULT_PREFIX : undefined;
}

/** The AWS and issuer operations, loaded at the first of them (see operations.ts). */
function operations(): Promise<typeof import('./operations.js')> {
  return import('./operations.js');
}

/** `create`: see operations.ts. */
export async function create(
  props: Record<string, unknown>,
  seams: ProviderSeams = {},
): Promise<{ id: string; outs: CredentialOutputs }> {
  return (await operations()).create(props, seams);
}

/** `update`: see operations.ts. */
export async function update(
  olds: Record<string, unknown>,
  props: Record<string, unknown>,
  seams: ProviderSeams = {},
): Promise<{ outs: CredentialOutputs }> {
  return (await operations()).update(olds, props, seams);
}

/** `read` (refresh and import): see operations.ts. */
export async function read(
  id: string,
  props: Record<string, unknown>,
  seams: ProviderSeams = {},
): Promise<{ id?: string; props?: Record<string, unknown> }> {
  return (await operations()).read(id, props, seams);
}

/** `delete`: see operations.ts. */
export async function remove(props: Record<string, unknown>, seams: ProviderSeams = {}): Promise<void> {
  return (await operations()).remove(props, seams);
}
