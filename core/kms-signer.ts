/**
 * RS256 and ES256 signing by an AWS KMS key: the private key never leaves KMS. Implements the
 * issuer layer's {@link KeySigner}; every KMS failure becomes a classified error that names the
 * credential and the key, never KMS's own message.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { KMSClient, SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import { derToJose } from 'ecdsa-sig-formatter';
import {
  InvalidConfigurationError,
  InvalidCredentialsError,
  IssuerUnavailableError,
  type TokenRotatorError,
} from './errors';
import type { AssertionAlgorithm } from './issuers/private-key';
import type { KeySigner } from './issuers/types';

/** The only algorithm RS256 maps to in KMS. */
export const KMS_RS256 = 'RSASSA_PKCS1_V1_5_SHA_256';

/** The only algorithm ES256 maps to in KMS (an ECC_NIST_P256 key). */
export const KMS_ES256 = 'ECDSA_SHA_256';

/** What each JWS algorithm needs of a KMS key. */
const KMS_KEYS: Record<
  AssertionAlgorithm,
  { signing: SigningAlgorithmSpec; specs: ReadonlySet<string>; wanted: string; fits: (key: KeyObject) => boolean }
> = {
  RS256: {
    signing: KMS_RS256,
    // RS256 needs at least 2048 bits.
    specs: new Set(['RSA_2048', 'RSA_3072', 'RSA_4096']),
    wanted: 'an RSA_2048, RSA_3072 or RSA_4096 key',
    fits: (key) => key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048,
  },
  ES256: {
    signing: KMS_ES256,
    specs: new Set(['ECC_NIST_P256']),
    wanted: 'an ECC_NIST_P256 key',
    fits: (key) => key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1',
  },
};

/** Bytes of an ES256 JWS signature: R and S, 32 bytes each (RFC 7518 §3.4). */
const ES256_SIGNATURE_BYTES = 64;

/** KMS signs a RAW message of at most this many bytes; longer signing inputs are sent as their SHA-256 digest. */
export const KMS_MAX_RAW_MESSAGE_BYTES = 4096;

/**
 * A {@link KeySigner} backed by KMS `Sign` and `GetPublicKey`. The client is created on first use
 * (standard configuration: `AWS_REGION`, the credentials chain, `AWS_ENDPOINT_URL`) unless given.
 *
 * @example
 * ```ts
 * const signer = kmsKeySigner(new KMSClient({}));
 * const pem = await signer.publicKeyPem('alias/upload-signing', 'upload-prod');
 * ```
 */
export function kmsKeySigner(client?: KMSClient): KeySigner {
  let kms = client;
  // Imported on first use, not with this module: in the Lambda bundle it is a chunk of its own, so
  // a sweep that signs nothing with KMS never loads (or parses) the KMS client.
  const sdk = () => import('./kms-sdk.js');
  const clientOf = async () => {
    kms ??= new (await sdk()).KMSClient({});
    return kms;
  };
  /** KMS's own signature of `message` by `keyId` with `algorithm`, or a classified failure. */
  const kmsSign = async (keyId: string, algorithm: SigningAlgorithmSpec, message: Uint8Array, credential: string) => {
    // moto (and KMS) sign a RAW message as given; a DIGEST is only needed past KMS's RAW limit.
    const raw = message.byteLength <= KMS_MAX_RAW_MESSAGE_BYTES;
    const { SignCommand } = await sdk();
    try {
      const { Signature } = await (await clientOf()).send(
        new SignCommand({
          KeyId: keyId,
          SigningAlgorithm: algorithm,
          MessageType: raw ? 'RAW' : 'DIGEST',
          Message: raw ? message : createHash('sha256').update(message).digest(),
        }),
      );
      return Signature;
    } catch (e) {
      throw classifyKmsError(e, credential, keyId, 'Sign');
    }
  };
  const badSignature = (keyId: string, credential: string) =>
    new IssuerUnavailableError(
      `Credential "${credential}": KMS Sign with key "${keyId}" returned no usable signature; will retry.`,
      { credential, reason: 'kms-bad-signature' },
    );
  return {
    async signRs256(keyId, message, credential) {
      const signature = await kmsSign(keyId, KMS_RS256, message, credential);
      if (!signature || signature.byteLength < 256) throw badSignature(keyId, credential);
      return signature;
    },

    async signEs256(keyId, message, credential) {
      const der = await kmsSign(keyId, KMS_ES256, message, credential);
      if (!der) throw badSignature(keyId, credential);
      // KMS answers an ECDSA signature DER-encoded (an ASN.1 SEQUENCE of R and S); JWS wants R || S.
      let jose: Buffer;
      try {
        jose = Buffer.from(derToJose(Buffer.from(der), 'ES256'), 'base64url');
      } catch {
        throw badSignature(keyId, credential);
      }
      if (jose.byteLength !== ES256_SIGNATURE_BYTES) throw badSignature(keyId, credential);
      return new Uint8Array(jose);
    },

    async publicKeyPem(keyId, credential, alg = 'RS256') {
      const needs = KMS_KEYS[alg];
      const { GetPublicKeyCommand } = await sdk();
      let answer: import('@aws-sdk/client-kms').GetPublicKeyCommandOutput;
      try {
        answer = await (await clientOf()).send(new GetPublicKeyCommand({ KeyId: keyId }));
      } catch (e) {
        throw classifyKmsError(e, credential, keyId, 'GetPublicKey');
      }
      const unusable = (why: string) =>
        new InvalidConfigurationError(
          `Credential "${credential}": KMS key "${keyId}" ${why}; issuer.kms.keyId needs ${needs.wanted} with key usage SIGN_VERIFY to sign ${alg}.`,
          { credential, field: 'issuer.kms.keyId', reason: 'kms-key-unusable' },
        );
      if (answer.KeyUsage !== 'SIGN_VERIFY') throw unusable(`has key usage ${answer.KeyUsage ?? 'unknown'}`);
      // KeySpec, or its deprecated twin that older answers (and moto) carry.
      const spec = answer.KeySpec ?? answer.CustomerMasterKeySpec;
      if (spec !== undefined && !needs.specs.has(spec)) throw unusable(`has key spec ${spec}`);
      if (answer.SigningAlgorithms && !answer.SigningAlgorithms.includes(needs.signing)) {
        throw unusable(`does not offer ${needs.signing}`);
      }
      if (!answer.PublicKey) throw unusable('returned no public key');
      let key: KeyObject;
      try {
        key = createPublicKey({ key: Buffer.from(answer.PublicKey), format: 'der', type: 'spki' });
      } catch {
        throw unusable('returned a public key that is not DER SPKI');
      }
      // The key itself is the authority on what it is, whatever the metadata said.
      if (!needs.fits(key)) throw unusable(`is not ${needs.wanted}`);
      return key.export({ type: 'spki', format: 'pem' }).toString();
    },
  };
}

/** KMS exception names that a later attempt may get through (throttling, KMS-side trouble). */
const TRANSIENT = new Set([
  'ThrottlingException',
  'LimitExceededException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'KeyUnavailableException',
  'CustomKeyStoreInvalidStateException',
]);

/**
 * Maps a KMS failure to our classes. Permanent: a disabled key, a key pending deletion, a key
 * we may not use (the credential's signing key is unusable: `InvalidCredentials`), a key that
 * does not exist or cannot sign (`InvalidConfiguration`). Everything else is transient. Only the
 * exception's name is kept, never its message.
 */
export function classifyKmsError(e: unknown, credential: string, keyId: string, operation: string): TokenRotatorError {
  const name = e instanceof Error ? e.name : 'UnknownError';
  const status = (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const who = `Credential "${credential}": KMS ${operation} with key "${keyId}"`;
  const options = { credential, status };
  switch (name) {
    case 'DisabledException':
      return new InvalidCredentialsError(
        `${who} failed: the key is disabled; enable it or point issuer.kms.keyId at an enabled key.`,
        {
          ...options,
          reason: 'kms-key-disabled',
        },
      );
    case 'KMSInvalidStateException':
      return new InvalidCredentialsError(
        `${who} failed: the key is not usable in its current state (pending deletion or import); cancel the deletion or use another key.`,
        {
          ...options,
          reason: 'kms-key-state',
        },
      );
    case 'AccessDeniedException':
      return new InvalidCredentialsError(
        `${who} was denied; grant kms:Sign and kms:GetPublicKey on this key to the role that runs the rotator (TokenRotator signingKeyArns) and the provider.`,
        {
          ...options,
          reason: 'kms-access-denied',
        },
      );
    case 'NotFoundException':
      return new InvalidConfigurationError(
        `${who} failed: the key does not exist in this account and region; check issuer.kms.keyId.`,
        {
          ...options,
          field: 'issuer.kms.keyId',
          reason: 'kms-key-not-found',
        },
      );
    case 'InvalidKeyUsageException':
    case 'IncorrectKeyException':
    case 'UnsupportedOperationException':
    case 'ValidationException':
      return new InvalidConfigurationError(
        `${who} was refused (${name}); issuer.kms.keyId needs a key with key usage SIGN_VERIFY: RSA for RS256, ECC_NIST_P256 for ES256.`,
        {
          ...options,
          field: 'issuer.kms.keyId',
          reason: 'kms-key-unusable',
        },
      );
  }
  const transient = TRANSIENT.has(name) || status === undefined || status >= 500 || status === 429;
  if (transient) {
    return new IssuerUnavailableError(`${who} failed (${name}); will retry.`, {
      ...options,
      reason: 'kms-unavailable',
    });
  }
  return new InvalidConfigurationError(`${who} was refused (${name}); check issuer.kms.keyId and the key's policy.`, {
    ...options,
    field: 'issuer.kms.keyId',
    reason: 'kms-refused',
  });
}
