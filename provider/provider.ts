/**
 * The dynamic provider object. Pulumi serializes it into the state, so it holds nothing but the
 * name of the module that does the work: each operation requires that module in the provider
 * process. No client, no config, no secret is captured.
 */
import type * as pulumi from '@pulumi/pulumi';
import type * as runtimeModule from './runtime';

// Not exported itself: the provider below must capture a plain string, never this module's
// `exports`. Pulumi's closure serializer turns a captured module into a `require()` of a name it
// derives from the file's path and the package's `exports` map, and that derivation fails when
// the program's own path contains the package name (e.g. /home/me/token-rotator-platform/): it
// then asks for "token-rotator/dist/provider/provider.js", which `exports` does not serve.
const RUNTIME_MODULE = 'token-rotator/provider-runtime';

/** Module the provider process loads; resolved from the Pulumi program's node_modules. */
export const PROVIDER_RUNTIME_MODULE: string = RUNTIME_MODULE;

/** The operations of a dynamic provider that a credential implements. */
export type CredentialOperations = Required<
  Pick<pulumi.dynamic.ResourceProvider, 'check' | 'diff' | 'create' | 'update' | 'read' | 'delete'>
>;

/**
 * The provider object {@link ProviderCredential} registers: a plain object of arrow functions,
 * each requiring the runtime module by name. Pulumi serializes it into every credential's inputs
 * and again into its outputs; a plain object takes about 2 KB there, where a class instance
 * (prototype, constructor and a wrapper per method) takes 3.5 KB.
 */
export function credentialOperations(moduleName: string = RUNTIME_MODULE): CredentialOperations {
  const runtime = (): typeof runtimeModule => require(moduleName);
  return {
    check: async (_olds, news) => runtime().checkForPulumi(news),
    diff: async (_id, olds, news) => runtime().diff(olds, news),
    create: async (inputs) => runtime().create(inputs),
    update: async (_id, olds, news) => runtime().update(olds, news),
    read: async (id, props) => runtime().read(id, props),
    delete: async (_id, props) => {
      await runtime().remove(props);
    },
  };
}

/**
 * The operations of {@link credentialOperations} as a `pulumi.dynamic.ResourceProvider` class, for
 * a program that declares its own dynamic resources with them (`ProviderCredential` registers the
 * plain object, which serializes smaller).
 */
export class CredentialProvider implements pulumi.dynamic.ResourceProvider {
  private readonly operations: CredentialOperations;

  constructor(runtimeModule: string = RUNTIME_MODULE) {
    this.operations = credentialOperations(runtimeModule);
  }

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
    return this.operations.check(_olds, news);
  }

  async diff(
    _id: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<pulumi.dynamic.DiffResult> {
    return this.operations.diff(_id, olds, news);
  }

  async create(inputs: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
    return this.operations.create(inputs);
  }

  async update(
    _id: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<pulumi.dynamic.UpdateResult> {
    return this.operations.update(_id, olds, news);
  }

  async read(id: string, props: Record<string, unknown>): Promise<pulumi.dynamic.ReadResult> {
    return this.operations.read(id, props);
  }

  async delete(_id: string, props: Record<string, unknown>): Promise<void> {
    await this.operations.delete(_id, props);
  }
}
