/**
 * The dynamic provider object. Pulumi serializes it into the state, so it holds nothing but the
 * name of the module that does the work: each method requires that module in the provider
 * process. No client, no config, no secret is captured.
 */
import type * as pulumi from '@pulumi/pulumi';
import type * as runtimeModule from './runtime';

// Not exported itself: the class below must capture a plain string, never this module's
// `exports`. Pulumi's closure serializer turns a captured module into a `require()` of a name it
// derives from the file's path and the package's `exports` map, and that derivation fails when
// the program's own path contains the package name (e.g. /home/me/token-rotator-platform/): it
// then asks for "token-rotator/dist/provider/provider.js", which `exports` does not serve.
const RUNTIME_MODULE = 'token-rotator/provider-runtime';

/** Module the provider process loads; resolved from the Pulumi program's node_modules. */
export const PROVIDER_RUNTIME_MODULE: string = RUNTIME_MODULE;

/** The `pulumi.dynamic.ResourceProvider` behind {@link ProviderCredential}. */
export class CredentialProvider implements pulumi.dynamic.ResourceProvider {
  constructor(private readonly runtimeModule: string = RUNTIME_MODULE) {}

  private runtime(): typeof runtimeModule {
    return require(this.runtimeModule);
  }

  async check(_olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
    return this.runtime().checkForPulumi(news);
  }

  async diff(
    _id: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<pulumi.dynamic.DiffResult> {
    return this.runtime().diff(olds, news);
  }

  async create(inputs: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
    return this.runtime().create(inputs);
  }

  async update(
    _id: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<pulumi.dynamic.UpdateResult> {
    return this.runtime().update(olds, news);
  }

  async read(id: string, props: Record<string, unknown>): Promise<pulumi.dynamic.ReadResult> {
    return this.runtime().read(id, props);
  }

  async delete(_id: string, props: Record<string, unknown>): Promise<void> {
    await this.runtime().remove(props);
  }
}
