import { describe, expect, it } from 'vitest';
import {
  InvalidTokenRecordError,
  NEWER_TOKEN_RECORD_REASON,
  parseTokenRecord,
  secondsToExpiry,
  serializeTokenRecord,
  type TokenRecord,
} from '../../core/token';
import { caught } from '../helpers/caught';
import { tokenRecord } from '../helpers/token-record';

const ACCESS_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.planted-token-value.sig';
const record = (overrides: Partial<TokenRecord> = {}): TokenRecord =>
  tokenRecord(
    'sirv-prod',
    { issued: 0, refresh: 900, expires: 1200 },
    { accessToken: ACCESS_TOKEN, scope: ['files:read'], generation: 42, ...overrides },
  );

describe('parseTokenRecord', () => {
  it('round-trips a valid record', () => {
    expect(parseTokenRecord(serializeTokenRecord(record()), 'sirv-prod')).toEqual(record());
  });

  it.each([
    ['not JSON', '{"version":1,', /is not JSON/],
    ['version 0', JSON.stringify(record({ version: 0 as 1 })), /bad fields: version/],
    ['a fractional version', JSON.stringify(record({ version: 1.1 as 1 })), /bad fields: version/],
    ['a version that is a string', JSON.stringify(record({ version: '1' as unknown as 1 })), /bad fields: version/],
    ['no version', JSON.stringify({ ...record(), version: undefined }), /bad fields: version/],
    ['a missing token', JSON.stringify({ ...record(), accessToken: undefined }), /bad fields: accessToken/],
    ['a negative generation', JSON.stringify(record({ generation: -1 })), /bad fields: generation/],
    ['a date that is not ISO-8601', JSON.stringify(record({ expiresAt: 'tomorrow' })), /bad fields: expiresAt/],
    [
      'a known field of the wrong type beside unknown ones',
      JSON.stringify({ ...record(), generation: '7', newField: 1 }),
      /bad fields: generation/,
    ],
    [
      'an expiry before the issue',
      JSON.stringify(record({ expiresAt: '2026-11-22T11:00:00.000Z' })),
      /expires before it was issued/,
    ],
  ])('rejects %s, naming the credential and never quoting the value', (_what, text, message) => {
    const attempt = () => parseTokenRecord(text, 'sirv-prod');
    expect(attempt).toThrow(InvalidTokenRecordError);
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(/^Credential "sirv-prod": /);
    expect(attempt).not.toThrow(ACCESS_TOKEN);
  });

  it('reads a record of the next minor version: its unknown fields are dropped, the known ones kept', () => {
    // Prepare: what a newer rotator of major version 1 may write (fields only added).
    const newer = {
      ...record(),
      tokenId: 'tok-123',
      audience: ['https://api.example.com'],
      issuerMetadata: { region: 'eu', nested: { deep: [1, 2, 3] } },
    };
    // Act
    const parsed = parseTokenRecord(JSON.stringify(newer), 'sirv-prod');
    // Assess
    expect(parsed).toEqual(record());
    expect(Object.keys(parsed)).not.toContain('tokenId');
  });

  it('refuses a record of the next major version with an error that says to upgrade, and a reason callers switch on', () => {
    // Prepare: a version 2 record may change anything; here a field is renamed.
    const { accessToken, ...rest } = record();
    const next = JSON.stringify({ ...rest, version: 2, token: { value: accessToken } });
    // Act
    const error = caught(() => parseTokenRecord(next, 'sirv-prod'), InvalidTokenRecordError);
    // Assess
    expect(error.reason).toBe(NEWER_TOKEN_RECORD_REASON);
    expect(error.message).toBe(
      'Credential "sirv-prod": the token secret holds a version 2 token record; this code reads version 1. ' +
        'Upgrade token-rotator in this program (docs/compatibility.md).',
    );
    expect(JSON.stringify(error)).not.toContain(ACCESS_TOKEN);
  });

  it('names a newer major version even when the rest of the record is unreadable to this version', () => {
    const attempt = () => parseTokenRecord(JSON.stringify({ version: 7 }), 'sirv-prod');
    expect(attempt).toThrow(/version 7 token record/);
  });

  it('gives a record that is not newer but bad no newer-version reason', () => {
    const error = caught(
      () => parseTokenRecord(JSON.stringify(record({ generation: -1 })), 'sirv-prod'),
      InvalidTokenRecordError,
    );
    expect(error.reason).toBeUndefined();
  });

  it('writes only the fields of its own version', () => {
    const withExtra = { ...record(), extra: 'x' } as TokenRecord;
    expect(JSON.parse(serializeTokenRecord(withExtra))).toEqual(record());
  });

  it('refuses to serialize an invalid record, so one is never written', () => {
    expect(() => serializeTokenRecord(record({ tokenType: '' }))).toThrow();
  });
});

describe('secondsToExpiry', () => {
  it('counts down to expiresAt, negative once past', () => {
    expect(secondsToExpiry(record(), new Date('2026-11-22T12:19:00.000Z'))).toBe(60);
    expect(secondsToExpiry(record(), new Date('2026-11-22T12:21:00.500Z'))).toBe(-61);
  });
});
