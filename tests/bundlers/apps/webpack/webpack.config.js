// webpack 5 needs no SDK-specific option: it emits the .wasm that the glue names with
// `new URL("chat_sdk_bg.wasm", import.meta.url)` as an asset and rewrites the URL.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>chat-sdk-wasm with webpack</title>
<script defer src="main.js"></script></head><body></body></html>`;

export default {
  mode: "production",
  context: here,
  entry: "./main.js",
  output: { path: join(here, "dist"), filename: "main.js", clean: true },
  plugins: [
    // A one-file page, without a plugin dependency.
    {
      apply(compiler) {
        compiler.hooks.thisCompilation.tap("index-html", (compilation) => {
          compilation.hooks.processAssets.tap({ name: "index-html" }, () => {
            compilation.emitAsset("index.html", new compiler.webpack.sources.RawSource(html));
          });
        });
      },
    },
  ],
};
