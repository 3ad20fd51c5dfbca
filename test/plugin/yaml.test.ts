/**
 * The credential cycle from a Pulumi YAML program: no SDK, the engine hands the YAML language
 * host the plugin's schema.
 */
import { describeCredentialCycle } from './credential-cycle';

const PROJECT = 'plugin-yaml';

function credential(name: string, secretConfig: string, prefix: string, extra: string): string {
  return `  ${name}:
    type: token-rotator:Credential
    properties:
      prefix: ${prefix}
${extra}      issuer:
        kind: sirv
        url: \${sirvTokenUrl}
        allowInsecureHttp: true
        clientId: \${sirvClientId}${name === 'adopted' ? '-adopted' : ''}
        clientSecret: \${${secretConfig}}
`;
}

describeCredentialCycle({
  label: 'YAML',
  project: PROJECT,
  files: ({ prefix, adopted }) => ({
    'Pulumi.yaml': `name: ${PROJECT}
runtime: yaml
description: token-rotator credentials declared in YAML through the provider plugin.
config:
  sirvClientId:
    type: string
  sirvClientSecret:
    type: string
  sirvTokenUrl:
    type: string
${adopted ? '  adoptedClientSecret:\n    type: string\n' : ''}resources:
${credential('sirv-prod', 'sirvClientSecret', prefix, '      recoveryWindowInDays: 7\n')}${adopted ? credential('adopted', 'adoptedClientSecret', prefix, '') : ''}outputs:
  sirvTokenSecretArn: \${sirv-prod.tokenSecretArn}
  sirvReadPolicy: \${sirv-prod.readPolicy}
`,
  }),
  environment: async () => ({ path: [] }),
});
