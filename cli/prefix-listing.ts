/**
 * What `status` and `refresh` list under a prefix: every token secret (as the sweep lists it) and
 * the names of client secrets that have no token secret beside them, from one `ListSecrets` pass
 * over both kinds. A token secret deleted by hand must not make its credential vanish, nor be
 * reported as a mistyped name.
 */
import { type Filter, paginateListSecrets } from '@aws-sdk/client-secrets-manager';
import { type CredentialListing, listingOf, type SecretStore, secretNames, TAG_KEYS } from '../core/store';
import { storeError } from '../core/store/aws-errors';
import { parseSecretName } from '../core/store/names';

/** The credentials under a prefix, by the secrets found. */
export interface PrefixListing {
  /** Every credential with a token secret, by name. */
  tokens: Map<string, CredentialListing>;
  /** Credentials whose client secret is there but whose token secret is not (or is scheduled for deletion). */
  clientOnly: Set<string>;
}

/**
 * Lists both secrets of every credential under `store.prefix`: ListSecrets filtered on the name
 * prefix and on the tag both secrets carry (`token-rotator:credential`); secrets scheduled for
 * deletion count as gone. Reads no secret value.
 *
 * @throws {StoreError} when listing fails.
 */
export async function listPrefix(store: SecretStore & { prefix: string }): Promise<PrefixListing> {
  const filters: Filter[] = [{ Key: 'tag-key', Values: [TAG_KEYS.credential] }];
  // An empty name filter value is not a prefix match on AWS; without a prefix, the tag does the work.
  if (store.prefix !== '') filters.unshift({ Key: 'name', Values: [store.prefix] });
  const tokens = new Map<string, CredentialListing>();
  const clients = new Set<string>();
  try {
    const pages = paginateListSecrets({ client: store.client, pageSize: 100 }, { Filters: filters });
    for await (const page of pages) {
      for (const entry of page.SecretList ?? []) {
        if (entry.DeletedDate) continue;
        const parsed = parseSecretName(entry.Name, store.prefix);
        if (parsed?.kind === 'token') tokens.set(parsed.name, listingOf(parsed.name, entry));
        else if (parsed?.kind === 'client') clients.add(parsed.name);
      }
    }
  } catch (e) {
    throw storeError(e, undefined, 'ListSecrets');
  }
  return { tokens, clientOnly: new Set([...clients].filter((name) => !tokens.has(name))) };
}

/**
 * Why credential `name` has no token secret under `prefix`, and what to do, in one line: a
 * mistyped name or prefix, or (`clientOnly`) a token secret deleted by hand.
 */
export function absentTokenLine(name: string, prefix: string, clientOnly: boolean): string {
  const token = secretNames(name, prefix).token;
  return clientOnly
    ? `Credential "${name}": its client secret is there but its token secret "${token}" is not (deleted by hand?), ` +
        'so workloads have no token to read and the rotator cannot refresh it. Run "pulumi refresh", then ' +
        '"pulumi up", in the stack that declares it: that recreates the token secret.'
    : `Credential "${name}": no token secret "${token}"; check the name and --prefix.`;
}
