/**
 * RS256 signing by an AWS KMS key: the private key never leaves KMS. Implements the issuer
 * layer's {@link KeySigner}; every KMS failure becomes a classified error that names the
 * credential and the key, never KMS's own message.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import {
  InvalidConfigurationError,
  InvalidCredentialsError,
  IssuerUnavailableError,
  type TokenRotatorError,
} from './errors';
import type { KeySigner } from './issuers/types';

/** The only algorithm RS256 maps to in KMS. */
export const KMS_RS256 = 'RSASSA_PKCS1_V1_5_SHA_256';

/** KMS signs a RAW message of at most this many bytes; longer signing inputs are sent as their SHA-256 digest. */
export const KMS_MAX_RAW_MESSAGE_BYTES = 4096;

/** RSA key specs that can sign RS256 (RS256 needs at least 2048 bits). */
const RSA_SIGNING_SPECS = new Set(['RSA_2048', 'RSA_3072', 'RSA_4096']);

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
  return {
    async signRs256(keyId, message, credential) {
      // moto (and KMS) sign a RAW message as given; a DIGEST is only needed past KMS's RAW limit.
      const raw = message.byteLength <= KMS_MAX_RAW_MESSAGE_BYTES;
      const { SignCommand } = await sdk();
      let signature: Uint8Array | undefined;
      try {
        ({ Signature: signature } = await (await clientOf()).send(
          new SignCommand({
            KeyId: keyId,
            SigningAlgorithm: KMS_RS256,
            MessageType: raw ? 'RAW' : 'DIGEST',
            Message: raw ? message : createHash('sha256').update(message).digest(),
          }),
        ));
      } catch (e) {
        throw classifyKmsError(e, credential, keyId, 'Sign');
      }
      if (!signature || signature.byteLength < 256) {
        throw new IssuerUnavailableError(
          `Credential "${credential}": KMS Sign with key "${keyId}" returned no usable signature; will retry.`,
          { credential, reason: 'kms-bad-signature' },
        );
      }
      return signature;
    },

    async publicKeyPem(keyId, credential) {
      const { GetPublicKeyCommand } = await sdk();
      let answer: import('@aws-sdk/client-kms').GetPublicKeyCommandOutput;
      try {
        answer = await (await clientOf()).send(new GetPublicKeyCommand({ KeyId: keyId }));
      } catch (e) {
        throw classifyKmsError(e, credential, keyId, 'GetPublicKey');
      }
      const unusable = (why: string) =>
        new InvalidConfigurationError(
          `Credential "${credential}": KMS key "${keyId}" ${why}; issuer.kms.keyId needs an RSA_2048, RSA_3072 or RSA_4096 key with key usage SIGN_VERIFY.`,
          { credential, field: 'issuer.kms.keyId', reason: 'kms-key-unusable' },
        );
      if (answer.KeyUsage !== 'SIGN_VERIFY') throw unusable(`has key usage ${answer.KeyUsage ?? 'unknown'}`);
      // KeySpec, or its deprecated twin that older answers (and moto) carry.
      const spec = answer.KeySpec ?? answer.CustomerMasterKeySpec;
      if (spec !== undefined && !RSA_SIGNING_SPECS.has(spec)) throw unusable(`has key spec ${spec}`);
      if (answer.SigningAlgorithms && !answer.SigningAlgorithms.includes(KMS_RS256)) {
        throw unusable(`does not offer ${KMS_RS256}`);
      }
      if (!answer.PublicKey) throw unusable('returned no public key');
      let key: KeyObject;
      try {
        key = createPublicKey({ key: Buffer.from(answer.PublicKey), format: 'der', type: 'spki' });
      } catch {
        throw unusable('returned a public key that is not DER SPKI');
      }
      // The key itself is the authority on what it is, whatever the metadata said.
      if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
        throw unusable(`is not an RSA key of at least 2048 bits`);
      }
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
        `${who} was refused (${name}); issuer.kms.keyId needs an RSA key with key usage SIGN_VERIFY.`,
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
