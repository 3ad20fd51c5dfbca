/**
 * The child side of ./sirv-process.ts: starts the Sirv fake as the first IPC message says,
 * reports its URL, answers the control messages, and exits when the channel closes.
 */

import { type SirvFake, startSirvFake } from './sirv';
import type { SirvProcessReply, SirvProcessRequest } from './sirv-process';

let clockOffsetMs = 0;
let fake: SirvFake | undefined;

function reply(message: SirvProcessReply): void {
  process.send?.(message);
}

process.on('message', (message: SirvProcessRequest) => {
  switch (message.type) {
    case 'start':
      if (fake) return;
      clockOffsetMs = message.options.clockOffsetMs ?? 0;
      startSirvFake({
        port: message.options.port,
        clients: message.options.clients,
        latencyMs: message.options.latencyMs,
        lifetimeSeconds: message.options.lifetimeSeconds,
        now: () => new Date(Date.now() + clockOffsetMs),
      }).then(
        (started) => {
          fake = started;
          reply({ type: 'ready', url: started.url, tokenUrl: started.tokenUrl });
        },
        (error: unknown) => reply({ type: 'start-failed', message: String(error) }),
      );
      return;
    case 'set-clock-offset':
      clockOffsetMs = message.ms;
      reply({ type: 'reply', id: message.id, tokensIssued: fake?.tokensIssued ?? 0 });
      return;
    case 'tokens-issued':
      reply({ type: 'reply', id: message.id, tokensIssued: fake?.tokensIssued ?? 0 });
      return;
  }
});

// The parent closed the channel (close(), or it died): stop serving and go.
process.once('disconnect', () => {
  const closing = fake?.close() ?? Promise.resolve();
  closing.finally(() => process.exit(0));
});
