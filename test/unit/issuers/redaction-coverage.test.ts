/**
 * Every secret-bearing value of a configuration is redacted wherever an issuer can echo it
 * (body, redirect Location), and redaction is linear: long hostile bodies cost milliseconds.
 */
import { describe, expect, it } from 'vitest';
import { excerpt, redact } from '../../../core/redact';
import { caught } from '../../helpers/caught';
import { obtainFrom } from '../../helpers/issuers';
import { fakeFetch, frozenNow, jsonResponse } from './fake-fetch';
import { jsonConfig, oauth2Config, PLANTED_SECRET } from './issuer-cases';

const API_KEY = 'PLANTED-api-key-in-headers-41c9';

describe('redaction coverage', () => {
  it('redacts a client secret echoed in a redirect Location path', async () => {
    const location = `https://evil.example.com/echo/${encodeURIComponent(PLANTED_SECRET)}/x`;
    const { fetch } = fakeFetch(new Response(null, { status: 302, headers: { location } }));
    const error = await caught(obtainFrom(oauth2Config(), { credential: 'c', fetch, now: frozenNow }));
    expect(error).toMatchObject({ code: 'InvalidConfiguration', reason: 'redirect' });
    expect(error.message).toContain('https://evil.example.com/echo/');
    expect(error.message).not.toContain(PLANTED_SECRET);
    expect(error.message).not.toContain(encodeURIComponent(PLANTED_SECRET));
  });

  it('redacts the json kind header values (API keys) echoed in a body', async () => {
    const { fetch } = fakeFetch(jsonResponse({ detail: `bad key ${API_KEY}` }, 503));
    const config = jsonConfig({ headers: { 'x-api-key': API_KEY } });
    const error = await caught(obtainFrom(config, { credential: 'c', fetch, now: frozenNow }));
    expect(error.message).toContain('Issuer said');
    expect(error.message).not.toContain(API_KEY);
    expect(JSON.stringify(error)).not.toContain(API_KEY);
  });

  it('refuses a header value with a line break at configuration time, naming the field', async () => {
    const config = jsonConfig({ headers: { 'x-api-key': `${API_KEY}\r\nx-evil: 1` } });
    const error = await caught(obtainFrom(config, { credential: 'c', fetch: fakeFetch().fetch }));
    expect(error).toMatchObject({ code: 'InvalidConfiguration' });
    expect(error.message).toContain('issuer.headers.x-api-key');
    expect(error.message).not.toContain(API_KEY);
  });
});

describe('redaction is linear', () => {
  // Each shape made the old patterns backtrack once per position (160 KiB of words took 50 s).
  const shapes: [string, string][] = [
    ['a run of word characters', 'a'.repeat(160 * 1024)],
    ['a run of word characters and dashes', 'a-'.repeat(80 * 1024)],
    ['repeated JWT starts', 'eyJ'.repeat(55_000)],
    ['a name with long spacing', `token${' '.repeat(1000)}`.repeat(160)],
  ];
  it.each(shapes)('redacts %s of 160 KiB within the test timeout', { timeout: 2000 }, (_name, body) => {
    expect(typeof excerpt(body, [PLANTED_SECRET])).toBe('string');
  });

  it('still redacts a sensitive field whose name is part of a longer word', () => {
    expect(redact('{"x_access_token_v2": "abc"} refresh_token=def&y=1')).toBe(
      '{"x_access_token_v2": "[redacted]"} refresh_token=[redacted]&y=1',
    );
    expect(redact('{"status": "fine", "note": "ok"}')).toBe('{"status": "fine", "note": "ok"}');
    // A harmless field's value is still searched: the credential inside it is redacted.
    expect(redact('{"error":"down, token=abc-def"}')).toBe('{"error":"down, token=[redacted]"}');
  });
});
