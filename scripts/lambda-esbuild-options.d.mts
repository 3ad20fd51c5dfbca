import type { BuildOptions, Metafile } from 'esbuild';

/** Options for an ES module entry `index.mjs` plus chunks; add `entryPoints` and `outdir`. */
export declare const LAMBDA_ESM_OPTIONS: Readonly<BuildOptions & { metafile: true }>;

/** The output files a cold start loads: index.mjs and every chunk it imports statically. */
export declare function coldStartOutputs(metafile: Metafile, entry?: string): string[];
