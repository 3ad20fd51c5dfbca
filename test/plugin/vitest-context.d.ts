// Values test/plugin/global-setup.ts provides to the plugin project, read with inject()
// (pulumiBin and node22Bin are declared with the consumer project's, test/consumer/vitest-context.d.ts).
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** The plugin archive for this machine's platform (dist/plugin-archive/…tar.gz). */
    pluginArchive: string;
    /** The plugin's version, as its archive and schema carry it. */
    pluginVersion: string;
    /** The wheel of the Python SDK generated from the plugin's schema (scripts/build-sdks.sh). */
    pythonSdkWheel: string;
    /** The bin directory of a venv with the pulumi Python SDK (scripts/setup-sdk-tools.sh). */
    pythonVenvBin: string;
  }
}
