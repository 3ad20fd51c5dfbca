/**
 * A configured PEM private key, read and judged for signing with node:crypto alone: RSA of 2048
 * bits or more for RS256, EC P-256 for ES256. Apart from the signing code so that `pulumi up`
 * checks every credential's key without loading jose. A refusal names `issuer.privateKeyPem` and
 * never quotes the key.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { InvalidConfigurationError } from '../errors';

/** The signing algorithms an assertion may use: RS256 (RSA, PEM or KMS) and ES256 (P-256, PEM or KMS). */
export type AssertionAlgorithm = 'RS256' | 'ES256';

/** RS256 needs an RSA key of at least this many bits. */
const MIN_MODULUS_BITS = 2048;

/**
 * Reads a PEM private key and the algorithm it signs with: RSA of 2048 bits or more → RS256,
 * EC P-256 → ES256. Anything else is refused, naming `issuer.privateKeyPem`, never quoting it.
 */
export function readAssertionKey(
  privateKeyPem: string | undefined,
  credential: string | undefined,
): { key: KeyObject; alg: AssertionAlgorithm } {
  const fail = (what: string) => privateKeyRefusal(credential, what);
  const key = readPemPrivateKey(
    privateKeyPem,
    credential,
    'give a PEM private key (RSA or EC P-256), or kms: { keyId }.',
  );
  if (key.asymmetricKeyType === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_MODULUS_BITS) {
      throw fail(`is shorter than ${MIN_MODULUS_BITS} bits; RS256 needs at least ${MIN_MODULUS_BITS}.`);
    }
    return { key, alg: 'RS256' };
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { key, alg: 'ES256' };
  }
  const what =
    key.asymmetricKeyType === 'ec'
      ? `an EC key on ${key.asymmetricKeyDetails?.namedCurve ?? 'another curve'}`
      : `a ${key.asymmetricKeyType ?? 'non-RSA'} key`;
  throw fail(`is ${what}; assertions are signed RS256 (an RSA key) or ES256 (an EC P-256 key).`);
}

/**
 * A PEM private key as Node reads it, or the refusal naming `issuer.privateKeyPem` (never quoting
 * it): `missingAdvice` says what to give when there is none.
 */
function readPemPrivateKey(
  privateKeyPem: string | undefined,
  credential: string | undefined,
  missingAdvice: string,
): KeyObject {
  if (privateKeyPem === undefined || privateKeyPem.trim() === '') {
    throw privateKeyRefusal(credential, `is missing; ${missingAdvice}`);
  }
  try {
    return createPrivateKey(privateKeyPem);
  } catch {
    // The crypto error is dropped: it adds nothing and must not travel next to the key.
    throw privateKeyRefusal(credential, 'could not be read as a PEM private key; check that the whole key was copied.');
  }
}

/** The refusal of a configured private key, naming the field and `what` is wrong with it. */
function privateKeyRefusal(credential: string | undefined, what: string): InvalidConfigurationError {
  const who = credential ? `Credential "${credential}": ` : '';
  return new InvalidConfigurationError(`${who}issuer.privateKeyPem ${what}`, {
    credential,
    field: 'issuer.privateKeyPem',
    reason: 'bad-private-key',
  });
}

/** The RSA key a `signed-jwt` credential signs RS256 with. */
export function readRsaSigningKey(privateKeyPem: string | undefined, credential: string | undefined): KeyObject {
  const fail = (what: string) => privateKeyRefusal(credential, what);
  const key = readPemPrivateKey(
    privateKeyPem,
    credential,
    'give a PEM RSA private key, or let the provider generate one.',
  );
  if (key.asymmetricKeyType !== 'rsa') {
    throw fail(`is a ${key.asymmetricKeyType ?? 'non-RSA'} key; RS256 needs an RSA key.`);
  }
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_MODULUS_BITS) {
    throw fail(`is shorter than ${MIN_MODULUS_BITS} bits; RS256 needs at least ${MIN_MODULUS_BITS}.`);
  }
  return key;
}
