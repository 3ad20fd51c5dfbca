/**
 * Entry point of the `token-rotator` provider plugin: the engine starts it (through the
 * `pulumi-resource-token-rotator` launcher) and talks to it over gRPC.
 */
import { main } from '@pulumi/pulumi/provider';
import { TokenRotatorProvider } from './provider';

main(new TokenRotatorProvider(), process.argv.slice(2)).catch((e: unknown) => {
  // The engine shows the plugin's stderr; no secret reaches this point (the runtime's errors name fields, never values).
  console.error(`token-rotator plugin: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
