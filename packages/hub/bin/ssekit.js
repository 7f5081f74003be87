#!/usr/bin/env node
// The `ssekit` command. Installed from the registry, the package has dist/ and this runs it. In a
// clone of the repository right after `npm install` there is no dist/ (nothing was built): then it
// runs src/cli.ts through tsx (a dev dependency of the repository), resolving the workspace
// packages to their sources (the "ssekit-source" export condition), as `npm start` does.
import { existsSync } from "node:fs";
import { register } from "node:module";

const built = new URL("../dist/cli.js", import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  let tsx;
  try {
    tsx = await import("tsx/esm/api");
  } catch {
    process.stderr.write(
      "ssekit: this copy has neither dist/ (run `npm run build`) nor tsx to run its sources (run `npm install` in the repository)\n",
    );
    process.exit(1);
  }
  tsx.register();
  // Registered after tsx, so it runs first and tsx resolves with the condition added.
  register("./source-conditions.js", import.meta.url);
  await import(new URL("../src/cli.ts", import.meta.url).href);
}
