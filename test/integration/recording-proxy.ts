/**
 * A loopback HTTP proxy in front of moto that keeps every Lambda Invoke request moto received,
 * byte for byte, with moto's answer. moto runs no function without Docker and keeps no payload:
 * its default Lambda backend answers an `Event` invoke with 202 after writing one log stream
 * ("error running docker: …") to the function's log group, and its Docker-less "simple" backend
 * (`/moto-api/config` `{"lambda":{"use_docker":false}}`) only echoes the payload back to the
 * caller, and switches every Lambda call of the shared server to a separate set of functions.
 * So the payloads are taken here, on their way to moto, and moto's log streams confirm the count.
 */
import { startForwardingProxy } from '../../local-stack/forwarding-proxy';

/** One Invoke moto received. */
export interface RecordedInvoke {
  /** The function name or ARN in the request path, URL-decoded. */
  functionName: string;
  invocationType: string | undefined;
  payload: string;
  /** moto's HTTP status (202 for an accepted asynchronous invoke); 429 when the proxy throttled it. */
  status: number;
  /** False when the proxy answered itself (throttling) and moto never saw the request. */
  reachedMoto: boolean;
}

/** The proxy: point `AWS_ENDPOINT_URL_LAMBDA` at `endpoint`. */
export interface RecordingProxy {
  endpoint: string;
  invokes: RecordedInvoke[];
  /**
   * From now on, answers the first Invoke payload seen, and every retry of it, with Lambda's
   * throttling error instead of passing it on, as a busy account would: moto never sees it.
   */
  throttleFirstPayload(): void;
  /** Passes every Invoke on again. */
  stopThrottling(): void;
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
// Lambda's own limit for a synchronous invoke's payload.
const MAX_BODY_BYTES = 6 * 1024 * 1024;
/** Lambda's throttling answer, as a busy account gets it. */
const THROTTLED = {
  status: 429,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' },
  body: JSON.stringify({
    Type: 'User',
    message: 'Rate Exceeded.',
    Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
  }),
};

/** Starts the proxy on 127.0.0.1, forwarding to `target` (moto's endpoint). */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const invokes: RecordedInvoke[] = [];
  let throttling = false;
  let throttledPayload: string | undefined;
  const proxy = await startForwardingProxy({
    target,
    name: 'recording proxy',
    maxBodyBytes: MAX_BODY_BYTES,
    handle: async (request, forward) => {
      const invoke = INVOKE_PATH.exec(request.url.split('?')[0] ?? '/');
      if (!invoke) return forward();
      const payload = request.body.toString('utf8');
      const recorded = {
        functionName: decodeURIComponent(invoke[1] ?? ''),
        invocationType: request.headers['x-amz-invocation-type'] as string | undefined,
        payload,
      };
      if (throttling) {
        throttledPayload ??= payload;
        if (throttledPayload === payload) {
          invokes.push({ ...recorded, status: THROTTLED.status, reachedMoto: false });
          return THROTTLED;
        }
      }
      const answer = await forward();
      invokes.push({ ...recorded, status: answer.status, reachedMoto: true });
      return answer;
    },
  });
  return {
    ...proxy,
    invokes,
    throttleFirstPayload() {
      throttling = true;
      throttledPayload = undefined;
    },
    stopThrottling() {
      throttling = false;
    },
  };
}
