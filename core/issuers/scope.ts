/** Scope as issuers send it: a list of strings, or one space-separated string (RFC 6749 §3.3). */

/**
 * Normalises a scope value to a list; `undefined` when absent, empty or of another shape
 * (scope is informative, so an odd value is not worth failing a refresh for).
 */
export function parseScope(value: unknown): string[] | undefined {
  const entries =
    typeof value === 'string'
      ? value.split(/\s+/)
      : Array.isArray(value)
        ? value.filter((entry): entry is string => typeof entry === 'string')
        : [];
  const scope = entries.map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  return scope.length > 0 ? scope : undefined;
}

/** Joins a configured scope (list or string) into the space-separated form of a token request. */
export function formatScope(scope: string | readonly string[] | undefined): string | undefined {
  if (scope === undefined) return undefined;
  const joined = typeof scope === 'string' ? scope.trim() : scope.join(' ');
  return joined.length > 0 ? joined : undefined;
}
