/**
 * The `aws` resource plugin version the TokenRotator component's resources ask the engine for:
 * the installed @pulumi/aws package's, so an upgrade of that package needs no edit here. Shared
 * by the stand-in plugin (which must answer with it) and the tests that expect the engine to
 * name it. Imports nothing of vitest: the stand-in runs outside it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as z from '../../core/zod';

const manifest = createRequire(__filename).resolve('@pulumi/aws/package.json');

export const AWS_PLUGIN_VERSION = z
  .object({ version: z.string().check(z.regex(/^\d+\.\d+\.\d+/)) })
  .parse(JSON.parse(readFileSync(manifest, 'utf8'))).version;
