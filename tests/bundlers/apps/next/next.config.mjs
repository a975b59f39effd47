import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export default {
  // Static export: `next build` prerenders every page, which is where a top-level `await init()`
  // breaks; the SDK here is only touched inside useEffect.
  output: "export",
  // node_modules lives two folders up (tests/bundlers), shared by every app.
  turbopack: { root: resolve(here, "../..") },
};
