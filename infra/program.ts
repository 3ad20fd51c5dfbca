/** Entry of the root `Pulumi.yaml` (`main: dist/infra/program.js`): the platform stack's outputs. */
import { platform } from './stack';

const outputs = platform();

export const rotatorFunctionName = outputs.rotatorFunctionName;
export const credentials = outputs.credentials;
