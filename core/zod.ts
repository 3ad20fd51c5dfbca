/**
 * zod for every schema of the product: `zod/mini`, with zod's English messages installed.
 *
 * `zod/mini` is zod's tree-shakable form (functions such as `z.optional(s)` and `s.check(...)`
 * in place of methods): the Lambda bundle carries about a third of the code classic zod brings,
 * and a cold start runs less of it. It installs no locale, so its messages would all read
 * "Invalid input"; this module installs the English one once, before any schema parses, and every
 * schema imports zod from here. Messages are then exactly classic zod's.
 */
import { config } from 'zod/mini';
import { en } from 'zod/v4/locales';

config(en());

export * from 'zod/mini';
