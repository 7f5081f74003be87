// URI templates chosen by subscribers (domain/template.ts): linear-time matching, property-tested
// against the backtracking expression it replaced, and the bounds a subscription gets 400 for.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { compileTemplate } from "../../src/domain/template.js";
import { assertRefused, startEdgeHub } from "../support/edge-support.js";
import { Collector, publishOk, type Started, startHub } from "../support/hub-support.js";

let started: Started;
before(async () => {
  started = await startEdgeHub();
});
after(() => started.hub.close());

describe("URI templates from subscribers", () => {
  /** The regular expression the hub used to build for a template (RFC 6570 expressions as patterns). */
  function backtrackingReference(template: string): RegExp {
    const U = "(?:[A-Za-z0-9\\-._~]|%[0-9A-Fa-f]{2})";
    const R = "(?:[A-Za-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})";
    const list = `${U}*(?:,${U}*)*`;
    const forms: Record<string, string> = {
      "+": `${R}*`,
      "#": `(?:#${R}*)?`,
      ".": `(?:\\.${U}*)*`,
      "/": `(?:/${U}*)*`,
      ";": `(?:;${U}+(?:=${list})?)*`,
      "?": `(?:\\?${R}*)?`,
      "&": `(?:&${R}*)?`,
    };
    const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    const source = template.replace(
      /\{([^}]*)\}|([^{]+)/g,
      (_, body: string | undefined, text: string | undefined) =>
        body === undefined ? literal(text ?? "") : (forms[body[0] ?? ""] ?? list),
    );
    return new RegExp(`^${source}$`);
  }

  test("the linear-time matcher accepts exactly what the backtracking expression did (property)", () => {
    const part = fc.constantFrom(
      "a",
      "/",
      ".",
      "-",
      "{x}",
      "{+x}",
      "{#x}",
      "{.x}",
      "{/x}",
      "{;x}",
      "{?x}",
      "{&x}",
      "{x,y}",
    );
    const char = fc.constantFrom(
      "a",
      "b",
      "/",
      ".",
      ",",
      ";",
      "=",
      "?",
      "&",
      "#",
      "%41",
      "%4",
      "-",
      "!",
      "é",
    );
    fc.assert(
      fc.property(
        fc.array(part, { minLength: 1, maxLength: 4 }),
        fc.array(char, { maxLength: 8 }),
        (parts, chars) => {
          const template = parts.join("");
          const topic = chars.join("");
          assert.equal(
            compileTemplate(template)(topic),
            backtrackingReference(template).test(topic),
            `${template} ${topic}`,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  test(
    "a template that backtracks exponentially cannot stall the hub: publishing and delivery go on",
    { timeout: 15_000 },
    async () => {
      const own = await startHub({ anonymous: true });
      const trap = new Collector(`${own.endpoint}?topic=${encodeURIComponent("{a}{b}{c}{d}{e}{f}{g}{h}")}`);
      const dots = new Collector(`${own.endpoint}?topic=${encodeURIComponent("/x{.y}z")}`);
      const plain = new Collector(`${own.endpoint}?topic=/plain`);
      try {
        await Promise.all([trap.opened(), dots.opened(), plain.opened()]);
        // Topics that almost match: each took the old expressions hours.
        await publishOk(own.endpoint, { topic: `${"a".repeat(200)}!`, data: "almost" });
        await publishOk(own.endpoint, { topic: `/x${".".repeat(200)}!`, data: "almost" });
        await publishOk(own.endpoint, { topic: "/plain", data: "still served" });
        await plain.waitFor(1);
        assert.equal(plain.events[0]?.data, "still served");
        assert.deepEqual(trap.events, []);
        assert.deepEqual(dots.events, []);
      } finally {
        trap.close();
        dots.close();
        plain.close();
        await own.hub.close();
      }
    },
  );

  test("a template with more than 16 expressions is 400", async () => {
    await assertRefused(
      await fetch(`${started.endpoint}?topic=${encodeURIComponent("{a}".repeat(17))}`),
      400,
      /17 expressions; a template may have at most 16/,
    );
  });
});
