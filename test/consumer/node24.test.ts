/**
 * The consumer suite on Node 24 (the Lambda's default runtime line), with the newest
 * @pulumi/pulumi the registry serves, resolved when the run started (test/consumer/global-setup.ts).
 */
import { inject } from 'vitest';
import { describeConsumer } from './consumer-suite';

describeConsumer({
  label: `node 24, newest @pulumi/pulumi ${inject('newestPulumiSdk')}`,
  nodeBin: inject('node24Bin'),
  installLine: 0,
  expectedSdk: inject('newestPulumiSdk'),
});
