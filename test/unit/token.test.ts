import { describe, expect, it } from 'vitest';
import {
  InvalidTokenRecordError,
  parseTokenRecord,
  secondsToExpiry,
  serializeTokenRecord,
  type TokenRecord,
} from '../../core/token';
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
    ['an unknown version', JSON.stringify(record({ version: 2 as 1 })), /bad fields: version/],
    ['a missing token', JSON.stringify({ ...record(), accessToken: undefined }), /bad fields: accessToken/],
    ['a negative generation', JSON.stringify(record({ generation: -1 })), /bad fields: generation/],
    ['a date that is not ISO-8601', JSON.stringify(record({ expiresAt: 'tomorrow' })), /bad fields: expiresAt/],
    ['an extra field', JSON.stringify({ ...record(), refreshToken: 'x' }), /bad fields: \(root\)/],
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
