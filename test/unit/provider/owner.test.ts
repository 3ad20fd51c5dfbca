import { describe, expect, it } from 'vitest';
import { ownerTagValue } from '../../../provider/owner';

describe('ownerTagValue', () => {
  it('is the URN itself when Secrets Manager accepts it as a tag value', () => {
    const urn = 'urn:pulumi:dev::platform::pulumi-nodejs:dynamic/token-rotator:ProviderCredential::sirv-prod';
    expect(ownerTagValue(urn)).toBe(urn);
  });

  it('is a digest of a URN with a parent chain ($) or past 256 characters, distinct per URN', () => {
    const nested = 'urn:pulumi:dev::platform::my:Platform$pulumi-nodejs:dynamic/token-rotator:ProviderCredential::a';
    const long = `urn:pulumi:dev::platform::pulumi-nodejs:dynamic/token-rotator:ProviderCredential::${'x'.repeat(300)}`;
    expect(ownerTagValue(nested)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ownerTagValue(long)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ownerTagValue(nested)).not.toBe(ownerTagValue(`${nested}b`));
  });
});
