/**
 * How `pulumi up` names an issuer kind: a typo gets the closest known kind, and a preset's
 * credential is called by its vendor's name rather than by the base kind it expands to.
 */
import { errorFromCode, isTokenRotatorError } from '../core/errors';
import { ISSUER_KINDS } from '../core/issuers/config';

/** Vendor names of the presets, and the base kind each expands to. */
const PRESETS: Readonly<Record<string, { label: string; base: string }>> = {
  sirv: { label: 'Sirv', base: 'json' },
  aspose: { label: 'Aspose', base: 'oauth2' },
  upload: { label: 'Upload', base: 'signed-jwt' },
};

// A kind is a short word: anything longer is not worth comparing, nor quoting whole.
const MAX_QUOTED_KIND = 40;

/**
 * What `check` says of an unknown `issuer.kind`: the closest known kind when one is near (a typo,
 * another case), and the list of kinds.
 */
export function unknownKindReason(kind: string): string {
  const quoted = kind.length > MAX_QUOTED_KIND ? `${kind.slice(0, MAX_QUOTED_KIND)}…` : kind;
  const closest = closestKind(kind);
  const suggestion = closest ? `did you mean "${closest}"? ` : '';
  return `unknown kind "${quoted}"; ${suggestion}Expected one of ${ISSUER_KINDS.join(', ')}`;
}

/** The known kind within a typo's reach of `kind` (case ignored), if any. */
export function closestKind(kind: string): string | undefined {
  if (kind.length > MAX_QUOTED_KIND) return undefined;
  const wanted = kind.toLowerCase().replace(/_/g, '-');
  let best: { kind: string; distance: number } | undefined;
  for (const known of ISSUER_KINDS) {
    const distance = editDistance(wanted, known);
    if (!best || distance < best.distance) best = { kind: known, distance };
  }
  // Two edits, or a third of the word: "sirb", "oauth", "Upload", "headerjwt", not "magic".
  const reach = Math.max(2, Math.floor(wanted.length / 3));
  return best && best.distance <= reach ? best.kind : undefined;
}

/** Levenshtein distance (insertions, deletions, substitutions), for short words. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * An issuer's error for a preset credential, reworded to name the vendor: the issuers know only
 * the base kind ("json issuer at … answered 401"), which a user who wrote `kind: 'sirv'` never
 * saw. Same class, code and fields; any other error is returned as it is.
 */
export function withPresetName(error: unknown, credential: string, issuer: unknown): unknown {
  const kind = (issuer as { kind?: unknown } | null)?.kind;
  const preset = typeof kind === 'string' ? PRESETS[kind] : undefined;
  if (!preset || !isTokenRotatorError(error)) return error;
  const generic = `Credential "${credential}": ${preset.base} issuer`;
  if (!error.message.startsWith(generic)) return error;
  const message = `${preset.label} credential "${credential}": the issuer${error.message.slice(generic.length)}`;
  return errorFromCode(error.code, message, {
    credential: error.credential,
    status: error.status,
    retryAfterSeconds: error.retryAfterSeconds,
    reason: error.reason,
    transient: error.transient,
    cause: error,
    ...('field' in error ? { field: error.field } : {}),
  });
}
