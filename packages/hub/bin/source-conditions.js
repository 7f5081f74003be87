// A module resolution hook for running the repository's sources: adds the "ssekit-source" export
// condition (what `node --conditions=ssekit-source` does), so `ssekit/*` and `@ssekit/hub` resolve
// to src/*.ts instead of an unbuilt dist/.
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes("ssekit-source")
    ? context.conditions
    : [...context.conditions, "ssekit-source"];
  return nextResolve(specifier, { ...context, conditions });
}
