// Bundle the dashboard: js/src/index.js -> <outdir>/dashboard.js and dashboard.css.
//
//   node js/build.mjs            writes nbsweep/static/ (the committed bundle)
//   node js/build.mjs OUTDIR     writes elsewhere (the test that checks the bundle is current)
//
// The output is minified ESM and depends only on the sources and the locked esbuild and
// d3 versions, so rebuilding gives the same bytes.

import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.resolve(process.argv[2] ?? path.join(root, "nbsweep", "static"));

await build({
  absWorkingDir: root,
  entryPoints: { dashboard: "js/src/index.js" },
  outdir,
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020"],
  charset: "utf8",
  legalComments: "eof",
  sourcemap: false,
  logLevel: "warning",
});
