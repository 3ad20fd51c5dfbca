/**
 * `token-rotator`: the Pulumi side — the `ProviderCredential` dynamic resource and the
 * `TokenRotator` component that deploys the scheduled rotator Lambda.
 *
 * @example
 * ```ts
 * import * as pulumi from '@pulumi/pulumi';
 * import { ProviderCredential, TokenRotator } from 'token-rotator';
 *
 * const cfg = new pulumi.Config();
 * const rotator = new TokenRotator('token-rotator', { createAlarmTopic: true });
 * const sirv = new ProviderCredential('sirv-prod', {
 *   issuer: { kind: 'sirv', clientId: cfg.require('sirvClientId'), clientSecret: cfg.requireSecret('sirvClientSecret') },
 * });
 * export const readPolicy = rotator.readPolicyFor([sirv.tokenSecretArn]);
 * ```
 *
 * @packageDocumentation
 */

export type { IssuerConfigInput, IssuerKindName } from './core/issuers/config';
export type { RefreshPolicyInput } from './core/policy';
export type { AlarmKey, EventAlarmKey, LambdaNodeRuntime, RotatorLogLevel, RotatorSettings } from './infra';
export { type AlarmArns, TokenRotator, type TokenRotatorArgs } from './infra';
export type { Alarms } from './infra/token-rotator';
export { CredentialProvider, PROVIDER_RUNTIME_MODULE } from './provider/provider';
export { tokenReadPolicy } from './provider/read-policy';
export { ProviderCredential, type ProviderCredentialArgs, type SourcedIssuerConfigInput } from './provider/resource';
