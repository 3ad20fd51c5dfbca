/** The version of token-rotator's code, stamped on what the provider writes (drives `diff`). */
// A self-reference through the package's exports map resolves the same from sources and from dist/.
export const CODE_VERSION: string = (require('token-rotator/package.json') as { version: string }).version;
