import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type AnyTokenRotatorError,
  blocksUntilClientChanges,
  type ErrorCode,
  errorFromCode,
  InternalError,
  InvalidConfigurationError,
  InvalidCredentialsError,
  InvalidTokenRecordError,
  IssuerUnavailableError,
  isTokenRotatorError,
  MalformedResponseError,
  StoreError,
  TokenExpiredError,
  TokenRotatorError,
  unexpectedError,
  VersionLimitExceededError,
} from '../../core/errors';

const ONE_OF_EACH: AnyTokenRotatorError[] = [
  new InvalidCredentialsError('m'),
  new InvalidConfigurationError('m', { field: 'prefix' }),
  new IssuerUnavailableError('m'),
  new MalformedResponseError('m'),
  new TokenExpiredError('m'),
  new StoreError('m', { transient: false }),
  new VersionLimitExceededError('m'),
  new InvalidTokenRecordError('m'),
  new InternalError('m'),
];

/** What a caller does with an error, by code alone; the compiler checks each case's class. */
function describeError(error: AnyTokenRotatorError): string {
  switch (error.code) {
    case 'InvalidConfiguration':
      expectTypeOf(error).toEqualTypeOf<InvalidConfigurationError>();
      return `field ${error.field}`;
    case 'StoreError':
      expectTypeOf(error).toEqualTypeOf<StoreError>();
      return `store, transient ${error.transient}`;
    case 'InvalidCredentials':
    case 'IssuerUnavailable':
    case 'MalformedResponse':
    case 'TokenExpired':
    case 'InvalidTokenRecord':
    case 'VersionLimitExceeded':
    case 'InternalError':
      return error.code;
    default: {
      // Exhaustive: a new class without a case here fails to compile.
      const never: never = error;
      return never;
    }
  }
}

describe('the error union', () => {
  it('narrows to the class of each code in a switch', () => {
    expect(ONE_OF_EACH.map(describeError)).toEqual([
      'InvalidCredentials',
      'field prefix',
      'IssuerUnavailable',
      'MalformedResponse',
      'TokenExpired',
      'store, transient false',
      'VersionLimitExceeded',
      'InvalidTokenRecord',
      'InternalError',
    ]);
  });

  it('has one class per code, every one a TokenRotatorError', () => {
    const codes = ONE_OF_EACH.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    expectTypeOf<AnyTokenRotatorError['code']>().toEqualTypeOf<ErrorCode>();
    for (const error of ONE_OF_EACH) {
      expect(error).toBeInstanceOf(TokenRotatorError);
      expect(isTokenRotatorError(error)).toBe(true);
    }
  });
});

describe('errorFromCode', () => {
  it('gives back the class of every code', () => {
    for (const error of ONE_OF_EACH) {
      const rebuilt = errorFromCode(error.code, 'again', { credential: 'sirv-prod', status: 401 });
      expect(rebuilt.constructor).toBe(error.constructor);
      expect(rebuilt).toMatchObject({ code: error.code, message: 'again', credential: 'sirv-prod', status: 401 });
    }
  });

  it('treats a code it does not know, or none, as the issuer being unavailable (retried)', () => {
    for (const code of ['SomethingNew', undefined]) {
      const error = errorFromCode(code, 'm');
      expect(error).toBeInstanceOf(IssuerUnavailableError);
      expect(error.transient).toBe(true);
    }
  });
});

describe('unexpectedError', () => {
  it('keeps our own errors and turns anything else into an InternalError naming only its kind', () => {
    const ours = new StoreError('m');
    expect(unexpectedError(ours, 'sirv-prod')).toBe(ours);
    const wrapped = unexpectedError(new TypeError('PLANTED-secret in a message'), 'sirv-prod');
    expect(wrapped).toBeInstanceOf(InternalError);
    expect(wrapped).toMatchObject({ code: 'InternalError', transient: true, credential: 'sirv-prod' });
    expect(wrapped.message).toBe('Credential "sirv-prod": refresh failed unexpectedly (TypeError).');
    expect(unexpectedError('a string', 'x').message).toContain('(string)');
  });
});

describe('blocksUntilClientChanges', () => {
  it('blocks on rejected credentials and bad configuration only', () => {
    const blocking = ONE_OF_EACH.filter((e) => blocksUntilClientChanges(e.code)).map((e) => e.code);
    expect(blocking).toEqual(['InvalidCredentials', 'InvalidConfiguration']);
    expect(blocksUntilClientChanges(undefined)).toBe(false);
    expect(blocksUntilClientChanges('')).toBe(false);
  });
});
