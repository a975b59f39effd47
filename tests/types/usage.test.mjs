// The typings (pkg/index.d.ts) accept the whole contract and refuse wrong use: tsc --strict.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

test("tests/types/usage.ts type-checks against pkg/index.d.ts with tsc --noEmit --strict", () => {
  const tsc = join(ROOT, "tests/node_modules/.bin/tsc");
  const r = spawnSync(tsc, ["--noEmit", "--strict", "-p", join(ROOT, "tests/types")], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}\n${r.stderr}`);
});
