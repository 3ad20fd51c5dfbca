/**
 * The parts of the KMS SDK that KMS signing uses, as one ES module, for `import()` on first use.
 * Importing this module, not `@aws-sdk/client-kms` itself, is what lets esbuild's code splitting
 * put the KMS client in a chunk of its own: an `import()` of a CommonJS package from a split
 * bundle resolves to `{ default }` only (evanw/esbuild#3245), while this module's named
 * re-exports stay named.
 */
export { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
