/**
 * What the CLI says when a prefix holds no credential: most often a mistyped `--prefix` or the
 * wrong region, so it names both as searched, and says how to accept an empty prefix.
 */
import type { CliContext } from './context';

/** The region the Secrets Manager client of `context` uses, when it can tell. */
async function regionOf(context: CliContext): Promise<string | undefined> {
  try {
    const region: unknown = context.store().client.config.region;
    const value = typeof region === 'function' ? await (region as () => Promise<unknown>)() : region;
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Why nothing was found, and what to check: one line, no trailing newline. */
export async function emptyPrefixLine(context: CliContext): Promise<string> {
  const region = await regionOf(context);
  return (
    `No credentials under prefix "${context.prefix}"${region ? ` in ${region}` : ''}: check --prefix ` +
    '(or TOKEN_ROTATOR_PREFIX) and the region (--region, AWS_REGION, AWS_PROFILE); ' +
    'pass --allow-empty when no credential is expected.'
  );
}

/** What `--allow-empty` prints instead: the plain fact, for people. */
export function noCredentialsLine(context: CliContext): string {
  return `No credentials under prefix "${context.prefix}".`;
}
