/**
 * The AWS clients of one provider operation, each built from the credential's recorded settings
 * (never from the shell alone: the secrets live where the stack said when they were made) unless
 * a test passes its own.
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AdaptiveRetryStrategy, RateLimiter } from '@smithy/core/retry';
import type { KeySigner } from '../core/issuers/types';
import { kmsKeySigner } from '../core/kms-signer';
import { type AwsSettings, clientConfig, PROVIDER_MAX_ATTEMPTS } from './aws-settings';

/** Seams of the provider: AWS clients, HTTP, time and randomness. */
export interface ProviderSeams {
  secretsManager?: SecretsManagerClient;
  lambda?: LambdaClient;
  /** Signs and reads public keys of `issuer.kms` signing keys. */
  kms?: KMSClient;
  fetch?: typeof fetch;
  now?: () => Date;
  random?: () => number;
}

export function secretsManager(seams: ProviderSeams, settings: Partial<AwsSettings>): SecretsManagerClient {
  if (seams.secretsManager) return seams.secretsManager;
  // Required lazily: the provider process loads SDKs only when a method runs.
  const { SecretsManagerClient: Client } =
    require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
  return new Client({ ...clientConfig(settings), retryStrategy: sharedRateRetries(settings) });
}

/** One rate limiter per account-and-region reach, for every Secrets Manager client of this process. */
const rateLimiters = new Map<string, RateLimiter>();

/**
 * The SDK's adaptive retry mode, its rate limiter shared by every operation of this provider
 * process that reaches the same secrets. One `up` runs the operations of hundreds of credentials
 * at once against Secrets Manager's write quota ("Combined rate of CreateSecret, DeleteSecret,
 * RestoreSecret API requests: 50 per second", Secrets Manager quotas). The AWS SDKs and Tools
 * reference (Retry behavior) describes adaptive mode as standard mode "as well as automatic
 * client-side rate limiting", recommended for "single-resource, throttling-heavy,
 * latency-tolerant" use, with one limiter per scope the service throttles at: here the account
 * and region the settings reach. Each client keeps its own retry quota, so one credential's
 * retries never use up another's.
 */
function sharedRateRetries(settings: Partial<AwsSettings>): AdaptiveRetryStrategy {
  const { AdaptiveRetryStrategy: Strategy, DefaultRateLimiter } =
    require('@smithy/core/retry') as typeof import('@smithy/core/retry');
  const reach = JSON.stringify([settings.region, settings.profile, settings.assumeRoles]);
  let rateLimiter = rateLimiters.get(reach);
  if (!rateLimiter) {
    rateLimiter = new DefaultRateLimiter();
    rateLimiters.set(reach, rateLimiter);
  }
  return new Strategy(PROVIDER_MAX_ATTEMPTS, { rateLimiter });
}

export function lambda(seams: ProviderSeams, settings: Partial<AwsSettings>): LambdaClient {
  if (seams.lambda) return seams.lambda;
  const { LambdaClient: Client } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  return new Client(clientConfig(settings));
}

/** The KMS client of a KMS-signed credential (none for other kinds: nothing loads the KMS SDK). */
function kms(seams: ProviderSeams, settings: Partial<AwsSettings>, issuer: unknown): KMSClient | undefined {
  if (seams.kms) return seams.kms;
  if ((issuer as { kms?: unknown } | null)?.kms === undefined) return undefined;
  const { KMSClient: Client } = require('@aws-sdk/client-kms') as typeof import('@aws-sdk/client-kms');
  return new Client(clientConfig(settings));
}

/** What signs for `issuer`: its KMS key through the credential's settings, else nothing remote. */
export function keySigner(seams: ProviderSeams, settings: Partial<AwsSettings>, issuer: unknown): KeySigner {
  return kmsKeySigner(kms(seams, settings, issuer));
}
