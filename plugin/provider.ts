/**
 * The `token-rotator` provider plugin: a second front door to the functions behind the
 * `ProviderCredential` dynamic provider (provider/runtime.ts), and to the `TokenRotator` component
 * (through `construct`, plugin/rotator-component.ts), for programs in any Pulumi language. This
 * file only translates between the engine's wire values and those functions: secret markers in
 * and out, the resource name as the default credential name, and the lookup an import needs.
 * Validation, diff and every write are the runtime's.
 */
import type * as pulumi from '@pulumi/pulumi';
import type * as pulumiProvider from '@pulumi/pulumi/provider';
import { specialSecretSig, specialSigKey } from '@pulumi/pulumi/runtime/rpc';
import { InvalidConfigurationError } from '../core/errors';
import * as store from '../core/store';
import { DEFAULT_PREFIX } from '../core/token';
import { CODE_VERSION } from '../core/version';
import { credentialReadPolicy } from '../provider/read-policy';
import * as runtime from '../provider/runtime';
import { constructRotator } from './rotator-component';
import { CREDENTIAL_TOKEN, packageSchema, ROTATOR_TOKEN } from './schema';

type Props = Record<string, unknown>;

/**
 * The runtime's outputs and those that follow from them, which the schema declares: the runtime
 * leaves them out of the state (the TypeScript class derives them in the program, by the same rules).
 */
function withDerivedOutputs(outs: Props | runtime.CredentialOutputs): Props {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const tokenSecretArn = text(outs.tokenSecretArn);
  // `read` found the token secret gone (an empty ARN): the next `up` makes it again.
  if (!tokenSecretArn) return { ...outs };
  const names = store.secretNames(String(outs.name), text(outs.prefix) ?? DEFAULT_PREFIX);
  return {
    ...outs,
    tokenSecretName: names.token,
    clientSecretName: names.client,
    readPolicy: credentialReadPolicy(tokenSecretArn, text(outs.kmsKeyId)),
  };
}

/** Fields of a credential that are secret whatever the program says: the issuer holds the client secret or key. */
const ALWAYS_SECRET = new Set(['issuer']);

function isSecretMarker(value: unknown): value is { value: unknown } {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as Record<string, unknown>)[specialSigKey] === specialSecretSig
  );
}

/** The value with every secret marker removed, at any depth. */
export function reveal(value: unknown): unknown {
  if (isSecretMarker(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map(reveal);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
  }
  return value;
}

/** True when the value holds a secret marker anywhere. */
export function holdsSecret(value: unknown): boolean {
  if (isSecretMarker(value)) return true;
  if (Array.isArray(value)) return value.some(holdsSecret);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsSecret);
  return false;
}

/** Wraps a value in the engine's secret marker; the state then keeps it as ciphertext. */
export function asSecret(value: unknown): unknown {
  return isSecretMarker(value) ? value : { [specialSigKey]: specialSecretSig, value };
}

function revealProps(props: unknown): Props {
  const plain = reveal(props ?? {});
  return plain !== null && typeof plain === 'object' && !Array.isArray(plain) ? (plain as Props) : {};
}

/**
 * Marks as secret the top-level fields that are always secret and those that arrived secret
 * (a program may pass any input from a secret), so no secret leaves the plugin in the clear.
 */
export function protect(values: Props, arrived: unknown): Props {
  const arrivedProps = (arrived ?? {}) as Props;
  return Object.fromEntries(
    Object.entries(values)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, ALWAYS_SECRET.has(k) || holdsSecret(arrivedProps[k]) ? asSecret(v) : v]),
  );
}

/** The resource name in a URN (`urn:pulumi:STACK::PROJECT::TYPE::NAME`): the default credential name. */
export function resourceNameOf(urn: string): string {
  const at = urn.lastIndexOf('::');
  return at >= 0 ? urn.slice(at + 2) : urn;
}

function assertCredentialType(urn: string): void {
  const type = urn.split('::')[2] ?? '';
  // A component parent's type comes first (`Parent$token-rotator:index:Credential`).
  if (type.split('$').at(-1) !== CREDENTIAL_TOKEN) {
    throw new Error(
      `token-rotator: unknown resource type in ${urn}; this plugin serves ${CREDENTIAL_TOKEN}, and the component ${ROTATOR_TOKEN}`,
    );
  }
}

/**
 * Splits an import id `PREFIX NAME` (the id `create` returns, e.g. `token-rotator/sirv-prod`) into
 * the prefix and the credential name: the name has no `/`, the prefix ends with one.
 */
export function parseImportId(id: string): { prefix: string; name: string } {
  const at = id.lastIndexOf('/');
  const prefix = at >= 0 ? id.slice(0, at + 1) : DEFAULT_PREFIX;
  const name = at >= 0 ? id.slice(at + 1) : id;
  if (!store.CREDENTIAL_NAME_PATTERN.test(name) || !store.PREFIX_PATTERN.test(prefix)) {
    throw new InvalidConfigurationError(
      `Import id "${id.slice(0, 300)}" is not PREFIX NAME: expected the credential's prefix (ending with "/") followed by its name, e.g. "token-rotator/sirv-prod".`,
      { field: 'id' },
    );
  }
  return { prefix, name };
}

/**
 * The inputs that declare an existing credential, read back from its client secret (the issuer
 * and policy as last written) and its tags: what `pulumi import` adopts. `undefined` when the
 * client secret is gone or scheduled for deletion: without it there is no configuration to adopt.
 */
async function importedInputs(id: string): Promise<Props | undefined> {
  const { prefix, name } = parseImportId(id);
  // Required lazily, as the runtime does: the plugin loads the SDK only when a method needs it.
  const { SecretsManagerClient } =
    require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
  const where = { client: new SecretsManagerClient({}), prefix };
  const state = await store.describeCredential(where, name);
  if (!state.client.exists || state.client.deletedDate) return undefined;
  // As stored: a client secret kept in a source is declared by its reference, which needs no
  // permission on the source to read.
  const { document } = await store.readClientSecret(where, name, { resolveSource: false });
  const tags = Object.fromEntries(
    Object.entries(state.client.tags).filter(([k]) => !store.RESERVED_TAG_PREFIXES.some((p) => k.startsWith(p))),
  );
  return {
    name,
    prefix,
    issuer: document.issuer,
    ...(document.clientSecretSource ? { clientSecretSource: document.clientSecretSource } : {}),
    ...(Object.keys(document.policy).length > 0 ? { policy: document.policy } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
    ...(state.client.kmsKeyId ? { kmsKeyId: state.client.kmsKeyId } : {}),
  };
}

/** The provider the plugin serves: `Credential` over the dynamic provider's runtime functions. */
export class TokenRotatorProvider implements pulumiProvider.Provider {
  readonly version: string;

  constructor(version: string = CODE_VERSION) {
    this.version = version;
  }

  async getSchema(): Promise<string> {
    return JSON.stringify(packageSchema(this.version));
  }

  async check(urn: string, _olds: unknown, news: unknown): Promise<pulumiProvider.CheckResult> {
    assertCredentialType(urn);
    const plain = revealProps(news);
    const { inputs, failures } = runtime.check({
      ...plain,
      name: plain.name ?? resourceNameOf(urn),
      // Stamped here, as the TypeScript resource class stamps it: a new plugin version updates.
      codeVersion: CODE_VERSION,
    });
    return { inputs: protect(inputs, news), failures };
  }

  async diff(_id: string, urn: string, olds: unknown, news: unknown): Promise<pulumiProvider.DiffResult> {
    assertCredentialType(urn);
    return runtime.diff(revealProps(olds), revealProps(news));
  }

  async create(urn: string, inputs: unknown): Promise<pulumiProvider.CreateResult> {
    assertCredentialType(urn);
    const { id, outs } = await runtime.create(revealProps(inputs));
    return { id, outs: protect(withDerivedOutputs(outs), inputs) };
  }

  async update(_id: string, urn: string, olds: unknown, news: unknown): Promise<pulumiProvider.UpdateResult> {
    assertCredentialType(urn);
    const { outs } = await runtime.update(revealProps(olds), revealProps(news));
    return { outs: protect(withDerivedOutputs(outs), news) };
  }

  async read(id: string, urn: string, props?: unknown): Promise<pulumiProvider.ReadResult> {
    assertCredentialType(urn);
    const known = revealProps(props);
    if (typeof known.name === 'string') {
      // `pulumi refresh`: the runtime reports deletion, a missing half and drift.
      const read = await runtime.read(id, known);
      return read.props ? { id: read.id ?? id, props: protect(withDerivedOutputs(read.props), props) } : {};
    }
    // `pulumi import`: only the id is known.
    const inputs = await importedInputs(id);
    if (!inputs) return {};
    const read = await runtime.read(id, { ...inputs, codeVersion: CODE_VERSION });
    if (!read.props) return {};
    return { id, props: protect(withDerivedOutputs(read.props), {}), inputs: protect(inputs, {}) };
  }

  async delete(_id: string, urn: string, props: unknown): Promise<void> {
    assertCredentialType(urn);
    await runtime.remove(revealProps(props));
  }

  /** The `TokenRotator` component, built by the TypeScript component's own code. */
  async construct(
    name: string,
    type: string,
    inputs: pulumi.Inputs,
    options: pulumi.ComponentResourceOptions,
  ): Promise<pulumiProvider.ConstructResult> {
    return constructRotator(name, type, inputs, options);
  }
}
