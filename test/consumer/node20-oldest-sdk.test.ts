/**
 * The consumer suite on the machine's Node 20 with the oldest @pulumi/pulumi this package
 * supports (its peer range's floor, and the last release that runs on Node 20).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'vitest';
import { describeConsumer } from './consumer-suite';

const manifest = JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>;
};
const oldest = manifest.peerDependencies['@pulumi/pulumi']?.replace(/^\^/, '') ?? '';

if (process.version.startsWith('v20.')) {
  describeConsumer({ label: `node 20, @pulumi/pulumi ${oldest}`, installLine: 1, expectedSdk: oldest });
} else {
  describe('the consumer suite on Node 20', () => {
    it.skip(`needs the tests to run on Node 20 (this is ${process.version})`, () => {});
  });
}
