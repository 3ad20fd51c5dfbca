/**
 * The parts of the EventBridge SDK that refresh events use, as one ES module, for `import()` by
 * the first sweep with an event to put. Importing this module, not `@aws-sdk/client-eventbridge`
 * itself, is what lets esbuild's code splitting put the EventBridge client in a chunk of its own:
 * an `import()` of a CommonJS package from a split bundle resolves to `{ default }` only (evanw/esbuild#3245), while this module's named re-exports stay named.
 */
export { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
