// Bundle the extension (Node, CommonJS, `vscode` provided by the editor) and the chat view's
// page script (browser) into dist/.
import * as esbuild from "esbuild";

const common = { bundle: true, minify: true, sourcemap: false, logLevel: "info", target: "es2022" };
await esbuild.build({
  ...common,
  entryPoints: ["src/extension.ts"],
  outfile: "dist/extension.js",
  platform: "node",
  format: "cjs",
  external: ["vscode"],
});
await esbuild.build({
  ...common,
  entryPoints: ["src/webview/chat.ts"],
  outfile: "dist/chat.js",
  platform: "browser",
  format: "iife",
});
