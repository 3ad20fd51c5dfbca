import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, inject, it } from 'vitest';
import { secretsManagerClient } from '../helpers/aws';

describe('the moto globalSetup', () => {
  it('points the standard AWS environment of every worker at the moto server it started', async () => {
    // Assess
    expect(process.env.AWS_ENDPOINT_URL).toBe(inject('motoEndpoint'));
    expect(process.env.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(process.env.AWS_REGION).toBe('us-east-1');
    // A client built with no options reaches moto (AWS itself would reject these keys).
    const out = await secretsManagerClient().send(new ListSecretsCommand({ MaxResults: 1 }));
    expect(out.$metadata.httpStatusCode).toBe(200);
  });
});
