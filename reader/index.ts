/**
 * `token-rotator/reader`: the workload SDK. Reads the tokens the rotator keeps fresh in Secrets
 * Manager. It never loads `@pulumi/pulumi`, so it is safe in any Lambda, container or script.
 *
 * @example
 * ```ts
 * import { TokenReader, createProtectedUrl, getToken } from 'token-rotator/reader';
 *
 * const { accessToken } = await getToken('sirv-prod'); // one call, one shared reader per process
 * const reader = new TokenReader({ prefix: 'token-rotator/' });
 * const response = await reader.fetch('aspose-prod', 'https://api.aspose.cloud/v3.0/words/info');
 * const { url } = await createProtectedUrl(reader, 'sirv-prod', { filename: '/a.jpg', expiresIn: 300 });
 * ```
 *
 * @packageDocumentation
 */

export type { AwsFailureKind } from '../core/aws-failure';
export {
  type AnyTokenRotatorError,
  type ErrorCode,
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
  type TokenRotatorErrorOptions,
} from '../core/errors';
export type { TokenRecord } from '../core/token';
export type { SendPreparer } from './authorized-fetch';
export { type GetTokenOptions, getToken } from './get-token';
export type { ReadFailureReason } from './secret-read';
export {
  createProtectedUrl,
  parseSirvProtectedUrlRequest,
  SIRV_API_BASE_URL,
  type SirvProtectedUrl,
  type SirvProtectedUrlOptions,
  type SirvProtectedUrlRequest,
  sirvProtectedUrlRequestSchema,
} from './sirv';
export { DEFAULT_MAX_CACHED_CREDENTIALS, TokenCache, type TokenCacheOptions } from './token-cache';
export {
  authorizationFor,
  DEFAULT_PREFIX,
  DEFAULT_RECHECK_SECONDS,
  DEFAULT_RETRY_SECONDS,
  DEFAULT_ROTATOR_MIN_INTERVAL_SECONDS,
  type RotatorInvokeOptions,
  type TokenFetchOptions,
  TokenReader,
  type TokenReaderOptions,
} from './token-reader';
