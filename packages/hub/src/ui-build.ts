/**
 * `npm run build:ui`: writes the browser bundles the web console and demos import (ssekit/client,
 * ssekit/protocol) into packages/hub/dist/ui/, for a hub installed without esbuild. A hub started
 * from its sources (`npm start`) bundles on demand and needs no build.
 */
import { writeBundles } from "./routes/ui-bundles.js";

for (const path of await writeBundles()) process.stdout.write(`wrote ${path}\n`);
