import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../../cli/exit-codes';
import { runCommand } from '../../helpers/cli';
import { NOW } from './fixtures';

const secretsManager = mockClient(SecretsManagerClient);
const client = () =>
  new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const run = (argv: string[]) => runCommand(argv, { now: () => NOW, secretsManager: client });

beforeEach(() => {
  secretsManager.reset();
  secretsManager.on(ListSecretsCommand).resolves({ SecretList: [] });
});
afterEach(() => secretsManager.reset());

describe('token-rotator argument parsing', () => {
  it('prints help on --help and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout).toContain('Usage: token-rotator');
    expect(stdout).toMatch(/status \[options\] \[names\.\.\.\]/);
    expect(stdout).toMatch(/refresh \[options\] \[names\.\.\.\]/);
  });

  it('lists sweep, and demo when run from a checkout (as here)', async () => {
    const { stdout } = await run(['--help']);
    expect(stdout).toMatch(/^ {2}sweep \[options\] /m);
    expect(stdout).toMatch(/^ {2}demo \[options\] /m);
    const exitCodes = stdout.slice(stdout.indexOf('Exit codes:')).replace(/\s+/g, ' ');
    for (const code of Object.values(EXIT_CODES)) expect(exitCodes).toMatch(new RegExp(`[:;] ${code} [A-Za-z(]`));
  });

  it.each(['status', 'refresh', 'sweep'])('offers --output and --json on %s, with one definition', async (command) => {
    const { stdout } = await run([command, '--help']);
    expect(stdout).toContain('-o, --output <format>');
    expect(stdout.replace(/\s+/g, ' ')).toContain('(choices: "table", "json")');
    expect(stdout).toContain('--json');
    expect(stdout).toContain('same as --output json');
    expect(stdout).toContain('--allow-empty');
  });

  it('refuses an unknown --output format and --json with --output table', async () => {
    const yaml = await run(['status', '--output', 'yaml']);
    expect(yaml.code).toBe(EXIT_CODES.usage);
    expect(yaml.stderr).toContain("option '-o, --output <format>' argument 'yaml' is invalid");
    const both = await run(['refresh', '--all', '--json', '--output', 'table']);
    expect(both.code).toBe(EXIT_CODES.usage);
    expect(both.stderr).toContain('--json and --output table contradict each other');
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it('prints the version on --version and exits 0', async () => {
    const { code, stdout } = await run(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('rejects an unknown command with exit 1 and a pointer to help', async () => {
    const { code, stderr } = await run(['rotate']);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain("unknown command 'rotate'");
    expect(stderr).toContain('token-rotator --help');
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it('rejects an unknown option with exit 1', async () => {
    const { code, stderr } = await run(['status', '--colour']);
    expect(code).toBe(1);
    expect(stderr).toContain("unknown option '--colour'");
  });

  it('shows help and exits 1 when no command is given', async () => {
    const { code, stderr } = await run([]);
    expect(code).toBe(1);
    expect(stderr).toContain('Usage: token-rotator');
  });

  it('refuses refresh without names or --all', async () => {
    const { code, stderr } = await run(['refresh']);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain('name the credentials to refresh, or pass --all');
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it('refuses refresh with both names and --all', async () => {
    const { code, stderr } = await run(['refresh', 'sirv-prod', '--all']);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain('give credential names or --all, not both');
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it.each(['0', '-5', 'soon', '1e3', '86401'])('rejects --watch %s with exit 1', async (value) => {
    const { code, stderr } = await run(['status', '--watch', value]);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toContain("option '--watch <seconds>' argument");
    expect(stderr).toContain('expected seconds between redraws, from 1 to 86400');
  });

  it.each(['0', '65', 'x'])('rejects refresh --concurrency %s with exit 1', async (value) => {
    const { code } = await run(['refresh', '--all', '--concurrency', value]);
    expect(code).toBe(EXIT_CODES.usage);
  });

  it('rejects an invalid credential name with a field-named line and exit 1', async () => {
    const { code, stderr } = await run(['status', 'bad/name']);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toBe(
      'token-rotator: name: expected a credential name of 1-64 letters, digits and _+=.@- (starting with a letter or digit).\n',
    );
  });

  it('rejects an invalid prefix, from the flag or from TOKEN_ROTATOR_PREFIX, with exit 1', async () => {
    const fromFlag = await run(['--prefix', 'no-slash', 'status']);
    expect(fromFlag.code).toBe(EXIT_CODES.usage);
    expect(fromFlag.stderr).toMatch(/^token-rotator: prefix: .* Check --prefix or TOKEN_ROTATOR_PREFIX\.\n$/);
    const fromEnv = await runCommand(['status'], {
      env: { TOKEN_ROTATOR_PREFIX: 'bad prefix/' },
      secretsManager: client,
    });
    expect(fromEnv.code).toBe(EXIT_CODES.usage);
  });

  it('lists under --prefix, else TOKEN_ROTATOR_PREFIX, else token-rotator/', async () => {
    const prefixes: string[] = [];
    secretsManager.on(ListSecretsCommand).callsFake((input) => {
      prefixes.push(input.Filters.find((f: { Key: string }) => f.Key === 'name').Values[0]);
      return { SecretList: [] };
    });
    await run(['status']);
    await runCommand(['status'], { env: { TOKEN_ROTATOR_PREFIX: 'env/' }, secretsManager: client });
    await runCommand(['--prefix', 'flag/', 'status'], {
      env: { TOKEN_ROTATOR_PREFIX: 'env/' },
      secretsManager: client,
    });
    expect(prefixes).toEqual(['token-rotator/', 'env/', 'flag/']);
  });

  it('accepts the global options after the command too', async () => {
    const prefixes: string[] = [];
    secretsManager.on(ListSecretsCommand).callsFake((input) => {
      prefixes.push(input.Filters.find((f: { Key: string }) => f.Key === 'name').Values[0]);
      return { SecretList: [] };
    });
    const { code } = await run(['status', '--json', '--prefix', 'after/', '--allow-empty']);
    expect(code).toBe(0);
    expect(prefixes).toEqual(['after/']);
  });

  it('passes --region to the clients it builds', async () => {
    const regions: (string | undefined)[] = [];
    await runCommand(['--region', 'eu-west-3', 'status'], {
      secretsManager: (config) => {
        regions.push(config.region);
        return client();
      },
    });
    expect(regions).toEqual(['eu-west-3']);
  });

  it('reports an AWS failure as one line with exit 2, and its stack only with --debug', async () => {
    secretsManager.on(ListSecretsCommand).rejects(
      Object.assign(new Error('User is not authorized'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const plain = await run(['status']);
    expect(plain.code).toBe(EXIT_CODES.aws);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    expect(plain.stderr).toContain('Secrets Manager ListSecrets failed with AccessDeniedException');
    expect(plain.stderr).toContain('Check the AWS credentials, region, permissions and --prefix.');
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await run(['--debug', 'status']);
    expect(debug.code).toBe(EXIT_CODES.aws);
    expect(debug.stderr).toMatch(/\n\s+at /);
    expect(debug.stderr).toContain('Caused by: AccessDeniedException: User is not authorized');
  });

  it('says to try again later, not to check the configuration, when Secrets Manager throttles', async () => {
    secretsManager.on(ListSecretsCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    // One attempt: the SDK's own retries of a throttled call would only slow the test down.
    const once = () =>
      new SecretsManagerClient({
        region: 'us-east-1',
        maxAttempts: 1,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      });
    const { code, stderr } = await runCommand(['status'], { now: () => NOW, secretsManager: once });
    expect(code).toBe(EXIT_CODES.aws);
    expect(stderr).toContain('Secrets Manager ListSecrets failed with ThrottlingException');
    expect(stderr).toContain(
      "Secrets Manager throttled it (the account's request quota, shared with the rotator): try again later.",
    );
    expect(stderr).not.toContain('Check the AWS credentials');
  });

  it('says how to set a region when the SDK has none, with exit 1', async () => {
    secretsManager.on(ListSecretsCommand).rejects(new Error('Region is missing'));
    const { code, stderr } = await run(['status']);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toBe(
      'token-rotator: No AWS region: pass --region or set AWS_REGION (or a region in your AWS profile).\n',
    );
  });
});
