import { describe, expect, it } from 'vitest';
import {
  motoChildEnvironment,
  motoEnvironment,
  pointProcessAtMoto,
  SHELL_AWS_SETTINGS,
} from '../../../local-stack/aws-environment';

const ENDPOINT = 'http://127.0.0.1:5999';

describe('the local stack AWS environment', () => {
  it('points an environment at moto, drops the shell settings that would override it, and restores both', () => {
    const env: NodeJS.ProcessEnv = {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'https://elsewhere.example',
      AWS_PROFILE: 'prod',
      AWS_REGION: 'eu-west-1',
      POWERTOOLS_PARAMETERS_MAX_AGE: '60',
      HOME: '/home/dev',
    };
    const before = { ...env };
    const restore = pointProcessAtMoto(ENDPOINT, {
      env,
      alsoClear: ['POWERTOOLS_PARAMETERS_MAX_AGE'],
      extra: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    expect(env).toEqual({
      ...motoEnvironment(ENDPOINT),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      HOME: '/home/dev',
    });
    restore();
    expect(env).toEqual(before);
  });

  it('neutralises every shell setting for a child process whose environment is merged over ours', () => {
    const child = motoChildEnvironment(ENDPOINT);
    for (const name of SHELL_AWS_SETTINGS) expect(child).toHaveProperty(name);
    const merged: Record<string, string> = {
      AWS_ENDPOINT_URL_LAMBDA: 'https://elsewhere.example',
      AWS_PROFILE: 'prod',
      ...child,
    };
    expect(merged.AWS_ENDPOINT_URL_LAMBDA).toBe(ENDPOINT);
    expect(merged.AWS_PROFILE).toBe('');
    expect(merged.AWS_ENDPOINT_URL).toBe(ENDPOINT);
    // The SDK rejects anything but "true" or "false" for this flag.
    expect(merged.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS).toBe('false');
  });
});
