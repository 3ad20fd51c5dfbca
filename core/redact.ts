/**
 * Redaction of text that may carry secrets before it reaches an error message or a log line.
 * Upstream bodies are untrusted: they can echo our client secret or contain a token.
 */

/** How many characters of an upstream body an error may quote. */
export const EXCERPT_LENGTH = 120;

// Every pattern below is linear in its input: a match may only start where a run of its
// alphabet starts (the lookbehinds), so a long run is scanned once, not once per position.
// Without them a 160 KiB body of word characters took 50 s.
const JWT_LIKE = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*/g;
// Long runs of token alphabet (base64, hex, base64url) are treated as credentials.
const LONG_OPAQUE = /[A-Za-z0-9+/=_-]{32,}/g;
// The value of any field whose name says it holds a credential, in JSON (`"token": "…"`) or form
// (`client_secret=…`) shape, whatever its length.
// The name is matched as a whole run, then judged: `[\w-]*keyword[\w-]*` backtracks quadratically.
// Only the name and separator are matched by a pattern; the value is taken (by FIELD_VALUE) only
// after a sensitive name, so a harmless field's value is still searched for nested ones.
const FIELD_NAME = /(?<![\w-])"?([\w-]+)"?\s*[:=]\s*/g;
const FIELD_VALUE = /"(?:[^"\\]|\\.)*"|[^\s&,;}"]+/y;
const SENSITIVE_NAME = /token|secret|password|passwd|authorization|api[_-]?key|private[_-]?key|jwt/i;
const PEM_BLOCK = /-----BEGIN [A-Z ]+-----[\s\S]*?(-----END [A-Z ]+-----|$)/g;

/**
 * Replaces every known secret value (also form-, percent- or JSON-encoded), the value of any
 * field named like a credential, and anything shaped like a JWT, a PEM block or a long opaque
 * string with `[redacted]`.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would redact ordinary words; secrets that short are rejected at input.
    if (!secret || secret.length < 4) continue;
    for (const form of encodedForms(secret)) out = out.split(form).join('[redacted]');
  }
  return redactSensitiveFields(out.replace(PEM_BLOCK, '[redacted]'))
    .replace(JWT_LIKE, '[redacted]')
    .replace(LONG_OPAQUE, '[redacted]');
}

/** Replaces the value of every field whose name says it holds a credential; one pass, linear. */
function redactSensitiveFields(text: string): string {
  const parts: string[] = [];
  let copied = 0;
  FIELD_NAME.lastIndex = 0;
  for (let match = FIELD_NAME.exec(text); match !== null; match = FIELD_NAME.exec(text)) {
    if (!SENSITIVE_NAME.test(match[1] ?? '')) continue;
    FIELD_VALUE.lastIndex = FIELD_NAME.lastIndex;
    const value = FIELD_VALUE.exec(text)?.[0];
    if (value === undefined) continue;
    parts.push(text.slice(copied, FIELD_NAME.lastIndex), value.startsWith('"') ? '"[redacted]"' : '[redacted]');
    copied = FIELD_NAME.lastIndex + value.length;
    FIELD_NAME.lastIndex = copied;
  }
  parts.push(text.slice(copied));
  return parts.join('');
}

/**
 * A secret as an upstream body may echo it: verbatim, form- or percent-encoded (an echoed token
 * request), or JSON-escaped (an echoed JSON body).
 */
function encodedForms(secret: string): string[] {
  const forms = [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams([['v', secret]]).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(secret).slice(1, -1).replaceAll('/', '\\/'),
  ];
  // Longest first, so a shorter form never splits a longer one and leaves a tail behind.
  return [...new Set(forms)].sort((a, b) => b.length - a.length);
}

/** A short, single-line, redacted excerpt of an upstream body, for error messages. */
export function excerpt(body: string, secrets: readonly (string | undefined)[] = []): string {
  const oneLine = redact(body, secrets).replace(/\s+/g, ' ').trim();
  return oneLine.length > EXCERPT_LENGTH ? `${oneLine.slice(0, EXCERPT_LENGTH)}…` : oneLine;
}
