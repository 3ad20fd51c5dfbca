import { describe, expect, it } from 'vitest';
import { awsFailureOf, classifyAwsFailure } from '../../core/aws-failure';
import { StoreError } from '../../core/errors';

const sdkError = (name: string, status: number | undefined, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} from the service`), {
    name,
    $fault: status !== undefined && status >= 500 ? 'server' : 'client',
    $metadata: status === undefined ? { attempts: 1 } : { httpStatusCode: status },
    ...extra,
  });

describe('awsFailureOf', () => {
  it.each([
    ['ResourceNotFoundException', 400, 'not-found', false],
    ['AccessDeniedException', 400, 'access-denied', false],
    ['UnrecognizedClientException', 400, 'aws-credentials-rejected', false],
    ['ExpiredTokenException', 400, 'aws-credentials-rejected', false],
    ['InvalidRequestException', 400, 'invalid-request', false],
    ['DecryptionFailure', 400, 'decryption-failed', false],
    ['ThrottlingException', 400, 'throttled', true],
    ['TooManyRequestsException', 429, 'throttled', true],
    ['InternalServiceError', 500, 'unavailable', true],
    ['SomethingNew', 503, 'unavailable', true],
    ['SomethingNew', 429, 'throttled', true],
    ['InvalidParameterException', 400, 'rejected', false],
  ])('%s (HTTP %i) is %s, transient %s', (name, status, kind, transient) => {
    expect(awsFailureOf(sdkError(name, status))).toMatchObject({ kind, transient, errorName: name, status });
  });

  it('recognises the SDK errors that come before any request: no credentials, no region', () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
      tryNextLink: false,
    });

    expect(awsFailureOf(noCredentials)).toMatchObject({ kind: 'no-aws-credentials', transient: false });
    expect(awsFailureOf(new Error('Region is missing'))).toMatchObject({ kind: 'no-region', transient: false });
    expect(awsFailureOf(new Error('Region is missing'))?.fix).toContain('set AWS_REGION');
  });

  it('counts a request that got no answer (a refused connection) as unavailable', () => {
    const refused = Object.assign(sdkError('Error', undefined), { code: 'ECONNREFUSED' });

    expect(awsFailureOf(refused)).toMatchObject({ kind: 'unavailable', transient: true, status: undefined });
  });

  it('looks through the cause chain of a wrapping error, as the CLI sees store failures', () => {
    const wrapped = new StoreError('Credential "x": Secrets Manager ListSecrets failed', {
      cause: new Error('Region is missing'),
    });

    expect(awsFailureOf(wrapped)?.kind).toBe('no-region');
  });

  it('finds no AWS failure in an error that is not one, and stops on a cause cycle', () => {
    const cyclic = new Error('a') as Error & { cause?: unknown };
    cyclic.cause = cyclic;

    expect(awsFailureOf(new TypeError('x is not a function'))).toBeUndefined();
    expect(awsFailureOf(cyclic)).toBeUndefined();
    expect(awsFailureOf('a string')).toBeUndefined();
  });

  it('classifyAwsFailure counts an unrecognised error from an SDK call as a network failure', () => {
    expect(classifyAwsFailure(new Error('socket hang up'))).toMatchObject({ kind: 'unavailable', transient: true });
  });
});
