/**
 * AWS clients for integration and e2e tests. They are built exactly as product code builds
 * them, with no endpoint option: the standard `AWS_ENDPOINT_URL` set by the globalSetup is what
 * points them at moto. The check here only turns a missing environment into a clear failure.
 */
import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { inject } from 'vitest';

/** The moto endpoint of this run, after checking that the AWS environment points at it. */
export function motoEndpoint(): string {
  const endpoint = inject('motoEndpoint');
  if (!endpoint) throw new Error('no moto endpoint: run this file under the integration or e2e project');
  if (process.env.AWS_ENDPOINT_URL !== endpoint) {
    throw new Error(
      `AWS_ENDPOINT_URL is ${process.env.AWS_ENDPOINT_URL ?? 'unset'} in this worker, not moto's ${endpoint}`,
    );
  }
  return endpoint;
}

/** A Secrets Manager client configured from the environment only (like the rotator's). */
export function secretsManagerClient(config: SecretsManagerClientConfig = {}): SecretsManagerClient {
  motoEndpoint();
  return new SecretsManagerClient(config);
}
