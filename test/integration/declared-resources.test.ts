/** The TypeScript TokenRotator component's declared resources under the acceptance checks. */
import { describeDeclaredResourceChecks } from './declared-resource-checks';
import { declareRotator } from './declared-resources';

describeDeclaredResourceChecks('TokenRotator', declareRotator);
