/**
 * A deliberately small IAM evaluator for policy tests: explicit Deny wins, then any Allow, with
 * `*` and `?` wildcards in actions and resources. Conditions are ignored (treated as met), which
 * only makes the tests stricter about what an Allow could grant.
 */
import type { PolicyDocument, PolicyStatement } from '../../../infra/policies';

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM's wildcard match: `*` any run of characters (including `/`), `?` exactly one. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i').test(value);
}

function covers(statement: PolicyStatement, action: string, resource: string): boolean {
  const actionHit =
    statement.Action !== undefined
      ? list(statement.Action).some((a) => wildcardMatch(a, action))
      : !list(statement.NotAction).some((a) => wildcardMatch(a, action));
  return actionHit && list(statement.Resource).some((r) => wildcardMatch(r, resource));
}

/** Whether the document lets `action` on `resource` through. */
export function allows(doc: PolicyDocument, action: string, resource: string): boolean {
  if (doc.Statement.some((s) => s.Effect === 'Deny' && covers(s, action, resource))) return false;
  return doc.Statement.some((s) => s.Effect === 'Allow' && covers(s, action, resource));
}

/** Every action an Allow statement names, lower-cased. */
export function allowedActions(doc: PolicyDocument): string[] {
  return doc.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action).map((a) => a.toLowerCase()));
}

export { list as asList };
