// Values test/support/global-setup.ts provides to every test file of the integration and e2e
// projects, read with `inject('motoEndpoint')`.
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:<port>` of the moto server this run started. */
    motoEndpoint: string;
  }
}
