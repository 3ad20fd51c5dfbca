/**
 * A Secrets Manager endpoint on 127.0.0.1 in front of another (moto) whose ListSecrets answers with a
 * state up to `listLagMs` old, for processes whose AWS clients this code does not build (the Lambda
 * bundle the demo imports makes its own from `AWS_ENDPOINT_URL`): AWS documents that "ListSecrets
 * might not reflect changes from the last five minutes". Every other call is passed through as it
 * came. The lag is judged by `now`, so a simulated clock drives it.
 */
import type { ListSecretsCommandInput, SecretListEntry } from '@aws-sdk/client-secrets-manager';
import { type LagChoice, LaggingListings, LIST_SECRETS_LAG_MS, readAllPages } from './eventual-consistency';
import { type ForwardingProxy, type ProxyAnswer, startForwardingProxy } from './forwarding-proxy';

/** Options of {@link startLaggingProxy}. */
export interface LaggingProxyOptions {
  /** The endpoint calls are passed to (`http://127.0.0.1:PORT`). */
  target: string;
  now: () => Date;
  /** How old a ListSecrets answer may be; default {@link LIST_SECRETS_LAG_MS} (5 minutes). */
  listLagMs?: number | undefined;
  /** Which state within the lag answers: the oldest (default, the worst case AWS allows) or the freshest. */
  choice?: LagChoice | undefined;
}

/** A running proxy: `endpoint` (`http://127.0.0.1:PORT`) is what `AWS_ENDPOINT_URL` is set to. */
export type LaggingProxy = ForwardingProxy;

const LIST_SECRETS_TARGET = 'secretsmanager.ListSecrets';
const JSON_TYPE = 'application/x-amz-json-1.1';

/**
 * Starts the proxy on a free port of 127.0.0.1.
 *
 * @example
 * ```ts
 * const proxy = await startLaggingProxy({ target: moto.endpoint, now: clock.now });
 * process.env.AWS_ENDPOINT_URL = proxy.endpoint;
 * ```
 */
export async function startLaggingProxy(options: LaggingProxyOptions): Promise<LaggingProxy> {
  const listings = new LaggingListings({
    lagMs: options.listLagMs ?? LIST_SECRETS_LAG_MS,
    choice: options.choice ?? 'oldest',
    now: options.now,
  });
  return startForwardingProxy({
    target: options.target,
    name: 'lagging proxy',
    handle: async (request, forward) => {
      if (request.headers['x-amz-target'] !== LIST_SECRETS_TARGET) return forward();
      const input = JSON.parse(request.body.toString('utf8') || '{}') as ListSecretsCommandInput;
      let failure: ProxyAnswer | undefined;
      const readPage = async (page: ListSecretsCommandInput) => {
        const answer = await forward(Buffer.from(JSON.stringify(page)));
        if (answer.status !== 200) {
          failure = answer;
          throw new Error('listing refused');
        }
        const parsed = JSON.parse(answer.body.toString()) as {
          SecretList?: SecretListEntry[];
          NextToken?: string | null;
        };
        // On the wire the last page may say `"NextToken": null`.
        return { SecretList: parsed.SecretList, NextToken: parsed.NextToken ?? undefined };
      };
      try {
        const page = await listings.list(input, (listing) => readAllPages(listing, readPage));
        return { status: 200, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(page) };
      } catch (e) {
        // The target's own refusal (a throttle, a bad filter) is answered as it was.
        if (failure === undefined) throw e;
        return failure;
      }
    },
  });
}
