/**
 * The parts of the Lambda SDK that invoking the rotator uses, as one ES module, for `import()` on
 * first use (the rotator's fan-out, `invokeRotator`). Importing this module, not
 * `@aws-sdk/client-lambda` itself, is what lets esbuild's code splitting put the Lambda client in
 * a chunk of its own: an `import()` of a CommonJS package from a split bundle resolves to
 * `{ default }` only (evanw/esbuild#3245), while this module's named re-exports stay named.
 */
export { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
