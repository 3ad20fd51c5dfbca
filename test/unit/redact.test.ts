import { describe, expect, it } from 'vitest';
import { EXCERPT_LENGTH, excerpt, redact } from '../../core/redact';

describe('redact', () => {
  it('removes a known secret verbatim and in its encoded forms', () => {
    const secret = 'ab+c/d=e:f g';
    const text = [secret, encodeURIComponent(secret), 'ab%2Bc%2Fd%3De%3Af+g', JSON.stringify(secret)].join(' | ');
    const out = redact(text, [secret]);
    expect(out).not.toContain('ab+c');
    expect(out).not.toContain('ab%2B');
    expect(out.match(/\[redacted\]/g)).toHaveLength(4);
  });

  it('removes JWTs, PEM blocks and long opaque strings', () => {
    const text = `jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig pem -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- opaque ${'A'.repeat(40)}`;
    expect(redact(text)).toBe('jwt [redacted] pem [redacted] opaque [redacted]');
  });

  it('removes the value of fields named like credentials, in JSON and form shape', () => {
    expect(redact('{"access_token":"short1","error":"invalid_client"}')).toBe(
      '{"access_token":"[redacted]","error":"invalid_client"}',
    );
    expect(redact('client_id=abc&client_secret=hunter2&scope=x')).toBe(
      'client_id=abc&client_secret=[redacted]&scope=x',
    );
  });

  it('leaves ordinary text and very short secret values alone', () => {
    expect(redact('Bad Request: missing field', ['abc'])).toBe('Bad Request: missing field');
  });
});

describe('excerpt', () => {
  it('makes one short line', () => {
    const out = excerpt(`line one\n\n  line two ${'word '.repeat(100)}`);
    expect(out.startsWith('line one line two word')).toBe(true);
    expect(out).toHaveLength(EXCERPT_LENGTH + 1);
    expect(out.endsWith('…')).toBe(true);
  });

  it('redacts before cutting, so a secret across the cut cannot survive in part', () => {
    const secret = `${'S'.repeat(10)}ecret-tail`;
    const out = excerpt(`${'x '.repeat(55)}${secret}`, [secret]);
    expect(out).not.toContain('SSSS');
  });
});
