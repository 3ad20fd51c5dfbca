/**
 * The Secrets Manager store of token-rotator (DESIGN.md "Secrets layout"): for credential NAME
 * under PREFIX, `PREFIX NAME/client` holds the client document and `PREFIX NAME/token` the token
 * record, whose version id (core/token-version.ts) and tags carry everything a sweep needs
 * without reading a value.
 *
 * One function per operation, each taking a {@link SecretStore} first. The AWS client is always
 * a parameter, so the same code runs against AWS and against moto (through the standard
 * `AWS_ENDPOINT_URL`), and tests drive it with a mock. No retries here: the SDK retries.
 * Knows nothing of issuers: the client document's `issuer` is opaque JSON to the store.
 *
 * One module per job: names (the layout, which the reader imports alone), aws-errors, tags,
 * validation, create (with rollback), documents (token and client), listing (and failures),
 * delete, describe. Use it as `import * as store from '…/core/store'`.
 */

export {
  type ClientSecretVersion,
  type DeclaredClientSecretVersion,
  MAX_BATCH_CLIENT_READS,
  type ReadClientSecretOptions,
  readClientSecret,
  readClientSecrets,
  updateClientDocument,
} from './client-secret';
export {
  type ClientSecretSource,
  clientSecretSourceSchema,
  SECRET_ARN_PATTERN,
  SECRET_ARN_RULE,
} from './client-secret-source';
export {
  type CreateCredentialInput,
  type CredentialSecretArns,
  createCredentialSecrets,
  DEFAULT_KMS_KEY_ALIAS,
} from './create';
export { type CredentialSettings, updateCredentialSettings } from './credential-settings';
export { type DeleteOptions, deleteCredentialSecrets, MIN_RECOVERY_WINDOW_DAYS } from './delete';
export { type CredentialState, describeCredential, describeSecret, type SecretState } from './describe';
export {
  type CredentialListing,
  describeTokenListing,
  type FailureRecord,
  listCredentials,
  listingOf,
  recordFailure,
} from './listing';
export {
  assertCredentialName,
  CLIENT_SUFFIX,
  CREDENTIAL_NAME_PATTERN,
  DEFAULT_PREFIX,
  PREFIX_PATTERN,
  type SecretNames,
  type SecretStore,
  secretNames,
  TOKEN_SUFFIX,
} from './names';
export { readSourcedClientSecret, type SourcedClientSecret } from './sourced-client-secret';
export { RESERVED_TAG_PREFIXES, TAG_KEYS } from './tags';
export {
  putToken,
  putTokenValue,
  readToken,
  type TagTokenOptions,
  type TagTokenPlan,
  tagToken,
  tagTokenCalls,
  tagTokenPlan,
  type WrittenToken,
} from './token-secret';
export {
  CLIENT_DOCUMENT_VERSION,
  type ClientDocument,
  type ClientDocumentInput,
  type DeclaredClientDocument,
  type DeclaredIssuer,
  declaredIssuerOf,
} from './validation';
