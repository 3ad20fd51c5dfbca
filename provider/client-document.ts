/**
 * The client document a create, an update or a repair writes: the declared issuer parsed, with its
 * signing key (generated, kept or read from KMS) and the public half to output, and the policy.
 */
import { assertionPublicKey } from '../core/issuers/assertion';
import type { IssuerConfig } from '../core/issuers/config';
import { generateSigningKey, publicKeyPemFromPrivate } from '../core/issuers/signed-jwt';
import type { KeySigner } from '../core/issuers/types';
import { type RefreshPolicy, resolvePolicy } from '../core/policy';
import * as store from '../core/store';
import { keySigner, type ProviderSeams } from './aws-clients';
import type { CredentialInputs } from './inputs';

/** Kinds that sign their own JWTs with a private key (generated when none is given) or a KMS key. */
const SIGNED_KINDS = new Set(['signed-jwt', 'upload']);

/** The public half of a credential's signing key, as outputs carry it. */
export interface PublicKeyOutputs {
  publicKeyPem?: string;
  publicJwks?: string;
}

/** A credential's client document, ready to write, and what the operation needs beside it. */
export interface PreparedDocument {
  /** The parsed issuer, its signing key filled in. */
  issuer: IssuerConfig;
  /** The public key to output, for kinds that sign. */
  keys: PublicKeyOutputs;
  /** The policy with its defaults, for the first token's refresh time. */
  policy: RefreshPolicy;
  clientDocument: store.ClientDocument;
}

/**
 * Fills in the declared issuer's signing key (parsed when the inputs were checked) and resolves the policy.
 *
 * @param existingPrivateKeyPem the generated key the stored document holds: kept, since its
 * public half may be registered with the service.
 */
export async function prepareClientDocument(
  inputs: CredentialInputs,
  parsed: IssuerConfig,
  seams: ProviderSeams,
  existingPrivateKeyPem?: string,
): Promise<PreparedDocument> {
  const signer = keySigner(seams, inputs.aws ?? {}, parsed);
  const { issuer, ...keys } = await withSigningKey(parsed, inputs.name, signer, existingPrivateKeyPem);
  const policy = resolvePolicy(inputs.policy, { credential: inputs.name });
  return {
    issuer,
    keys,
    policy,
    clientDocument: {
      version: store.CLIENT_DOCUMENT_VERSION,
      issuer,
      policy: inputs.policy ?? {},
      // Recorded in place of the client secret, which the store leaves out of the document.
      ...(inputs.clientSecretSource ? { clientSecretSource: inputs.clientSecretSource } : {}),
    },
  };
}

/** The generated private key a stored client document holds, if any. */
export function storedPrivateKey(document: store.DeclaredClientDocument): string | undefined {
  return 'privateKeyPem' in document.issuer ? document.issuer.privateKeyPem : undefined;
}

/**
 * Whether the rotator obtains this credential's tokens for the provider: an issuer reachable only
 * from its network (`rotatorFunctionName`). Signing kinds never need it: their tokens are minted
 * here (a KMS key signs wherever the caller may use it).
 */
export function viaRotator(
  inputs: CredentialInputs,
  issuer: IssuerConfig,
): inputs is CredentialInputs & {
  rotatorFunctionName: string;
} {
  return inputs.rotatorFunctionName !== undefined && !SIGNED_KINDS.has(issuer.kind);
}

/** Whether the provider generates this issuer's signing key (and keeps it in the client document): no key given, no KMS key. */
export function generatesSigningKey(issuer: IssuerConfig): boolean {
  return (
    (issuer.kind === 'signed-jwt' || issuer.kind === 'upload') && !issuer.kms && issuer.privateKeyPem === undefined
  );
}

/**
 * Fills in a generated signing key when a signed-jwt credential has none, and derives the public
 * key. A KMS-signed credential keeps no private key: its public key comes from KMS, and a PEM
 * stored before the switch to KMS is dropped.
 */
async function withSigningKey(
  issuer: IssuerConfig,
  credential: string,
  signer: KeySigner,
  existingPrivateKeyPem?: string,
): Promise<{ issuer: IssuerConfig } & PublicKeyOutputs> {
  if (issuer.kind === 'signed-jwt' || issuer.kind === 'upload') {
    if (issuer.kms) return { issuer, publicKeyPem: await signer.publicKeyPem(issuer.kms.keyId, credential) };
    const privateKeyPem = issuer.privateKeyPem ?? existingPrivateKeyPem ?? (await generateSigningKey()).privateKeyPem;
    return { issuer: { ...issuer, privateKeyPem }, publicKeyPem: publicKeyPemFromPrivate(privateKeyPem, credential) };
  }
  if (issuer.kind === 'json' || issuer.kind === 'sirv' || issuer.kind === 'header-jwt' || issuer.kind === 'aspose') {
    return { issuer };
  }
  // Kinds that sign RFC 7523 assertions: their key is given, never generated.
  if (issuer.privateKeyPem === undefined && issuer.kms === undefined) return { issuer };
  const { publicKeyPem, jwks } = await assertionPublicKey(issuer, credential, signer);
  return { issuer, publicKeyPem, publicJwks: JSON.stringify(jwks) };
}
