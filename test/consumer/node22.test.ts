/**
 * The consumer suite on Node 22, the floor of the supported range (package.json `engines`), with
 * the newest @pulumi/pulumi the registry serves, resolved when the run started
 * (test/consumer/global-setup.ts).
 */
import { inject } from 'vitest';
import { describeConsumer } from './consumer-suite';

describeConsumer({
  label: `node 22, newest @pulumi/pulumi ${inject('newestPulumiSdk')}`,
  nodeBin: inject('node22Bin'),
  installLine: 0,
  expectedSdk: inject('newestPulumiSdk'),
});
