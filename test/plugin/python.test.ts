/**
 * The credential cycle from a Pulumi Python program, through the Python SDK generated from the
 * plugin's schema and installed from its wheel. The program runs in a venv with the pulumi Python
 * SDK, activated (PATH and VIRTUAL_ENV): the language host ignores Pulumi.yaml's virtualenv option.
 */
import { describeCredentialCycle } from './credential-cycle';
import { pythonSdkEnvironment } from './python-sdk';

const PROJECT = 'plugin-python';

function credential(variable: string, name: string, secretConfig: string, prefix: string, extra: string): string {
  return `${variable} = tr.Credential(
    "${name}",
    prefix="${prefix}",
${extra}    issuer=tr.IssuerArgs(
        kind="sirv",
        url=cfg.require("sirvTokenUrl"),
        allow_insecure_http=True,
        client_id=cfg.require("sirvClientId")${name === 'adopted' ? ' + "-adopted"' : ''},
        client_secret=cfg.require_secret("${secretConfig}"),
    ),
)
`;
}

describeCredentialCycle({
  label: 'Python',
  project: PROJECT,
  files: ({ prefix, adopted }) => ({
    'Pulumi.yaml': `name: ${PROJECT}
runtime: python
description: token-rotator credentials declared in Python through the provider plugin.
`,
    '__main__.py': `"""token-rotator credentials declared in Python through the provider plugin."""
import pulumi
import pulumi_token_rotator as tr

cfg = pulumi.Config()
${credential('sirv', 'sirv-prod', 'sirvClientSecret', prefix, '    recovery_window_in_days=7,\n')}${adopted ? credential('adopted', 'adopted', 'adoptedClientSecret', prefix, '') : ''}
pulumi.export("sirvTokenSecretArn", sirv.token_secret_arn)
pulumi.export("sirvReadPolicy", sirv.read_policy)
`,
  }),
  environment: pythonSdkEnvironment,
});
