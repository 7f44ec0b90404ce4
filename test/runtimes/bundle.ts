/**
 * esbuild bundles of the runtime programs, over the built packages (`packages/*\/dist`, what a user installs).
 */
import * as esbuild from "esbuild"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** Bundles `entry` (a file of test/runtimes/src) into one ES module; `minify` for the size figures. */
export const bundle = async (entry: string, options: { readonly minify?: boolean } = {}) => {
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL(`./src/${entry}`, import.meta.url))],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: options.minify ?? false,
    metafile: true,
    logLevel: "silent",
    alias: {
      "@effect-cdf/files": `${root}packages/files/dist/index.js`
    },
    nodePaths: [`${root}node_modules`]
  })
  return { code: result.outputFiles[0].text, metafile: result.metafile }
}
