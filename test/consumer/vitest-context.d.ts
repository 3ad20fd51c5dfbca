// Values test/consumer/global-setup.ts provides to the consumer project, read with inject().
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** The packed build (`npm pack` of this checkout), in a temporary directory. */
    consumerTarball: string;
    /** The directory holding pulumi, pulumi-language-nodejs and pulumi-resource-pulumi-nodejs. */
    pulumiBin: string;
    /** The directory holding a Node 22 `node` (the supported range's floor). */
    node22Bin: string;
    /** The directory holding a Node 24 `node`. */
    node24Bin: string;
    /** The newest @pulumi/pulumi the registry serves, resolved when the run started. */
    newestPulumiSdk: string;
  }
}
