/**
 * Builds the published declarations (`.d.ts`) of ssekit and @ssekit/redis with their real
 * `tsconfig.build.json` into a temporary folder laid out as a consumer's `node_modules`, and
 * type-checks a consumer file against them with the repository's TypeScript compiler.
 */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

/** Runs tsc; resolves with its output, rejects with it when tsc reports errors. */
function runTsc(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [tsc, ...args], { cwd: root }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error) reject(new Error(`tsc ${args.join(" ")} failed:\n${output}`));
      else resolve(output);
    });
  });
}

export interface Declarations {
  /** The temporary folder; `node_modules` in it holds the built packages. */
  readonly dir: string;
  /** The text of every `.d.ts` file of a package, by path inside its `dist`. */
  files(pkg: "ssekit" | "@ssekit/redis"): Promise<Map<string, string>>;
  /** Type-checks `source` as a consumer's module (strict, NodeNext, library files checked too). */
  check(source: string): Promise<void>;
  remove(): Promise<void>;
}

async function walk(dir: string, base = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(base, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(join(dir, entry.name), path)));
    else if (entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Builds the declarations of ssekit, and of @ssekit/redis when `redis` is true (it needs ssekit's). */
export async function buildDeclarations(options: { readonly redis: boolean }): Promise<Declarations> {
  const dir = await mkdtemp(join(tmpdir(), "ssekit-types-"));
  try {
    const modules = join(dir, "node_modules");
    const ssekit = join(modules, "ssekit");
    const redis = join(modules, "@ssekit", "redis");
    await mkdir(ssekit, { recursive: true });
    await cp(join(root, "packages/ssekit/package.json"), join(ssekit, "package.json"));
    await symlink(join(root, "node_modules/@types"), join(modules, "@types"), "dir");
    await runTsc([
      "-p",
      "packages/ssekit/tsconfig.build.json",
      "--emitDeclarationOnly",
      "--outDir",
      join(ssekit, "dist"),
    ]);
    if (options.redis) {
      await mkdir(redis, { recursive: true });
      await cp(join(root, "packages/redis/package.json"), join(redis, "package.json"));
      await symlink(join(root, "node_modules/ioredis"), join(modules, "ioredis"), "dir");
      // The repository resolves `ssekit` to its sources; point it at the declarations just built.
      const config = join(dir, "tsconfig.redis.json");
      await writeFile(
        config,
        JSON.stringify({
          extends: join(root, "packages/redis/tsconfig.build.json"),
          compilerOptions: {
            outDir: join(redis, "dist"),
            emitDeclarationOnly: true,
            paths: { "ssekit/server": [join(ssekit, "dist/server/index.d.ts")] },
          },
        }),
      );
      await runTsc(["-p", config]);
    }
    return {
      dir,
      async files(pkg) {
        const dist = join(modules, pkg, "dist");
        const files = new Map<string, string>();
        for (const path of await walk(dist)) files.set(path, await readFile(join(dist, path), "utf8"));
        return files;
      },
      async check(source) {
        await writeFile(join(dir, "consumer.ts"), source);
        await writeFile(
          join(dir, "tsconfig.json"),
          JSON.stringify({
            compilerOptions: {
              strict: true,
              target: "ES2022",
              lib: ["ES2023", "DOM", "DOM.Iterable"],
              module: "NodeNext",
              moduleResolution: "NodeNext",
              types: ["node"],
              skipLibCheck: false,
              noEmit: true,
            },
            files: ["consumer.ts"],
          }),
        );
        await runTsc(["-p", join(dir, "tsconfig.json")]);
      },
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
