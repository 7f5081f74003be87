/**
 * URI templates (RFC 6570) as topic patterns, matched in linear time: the template becomes a small
 * automaton run over the topic with a set of live states, where a backtracking regular expression
 * could take exponential time on a template any subscriber chooses. Not responsible for the other
 * selector kinds or their cache (topics.ts).
 */

/** A template that is not RFC 6570 syntax; the message says what is wrong. */
export class TemplateSyntaxError extends Error {
  readonly code = "TEMPLATE_SYNTAX";
  constructor(message: string) {
    super(message);
    this.name = "TemplateSyntaxError";
  }
}

type CharTest = (code: number) => boolean;

interface State {
  readonly edges: { readonly test: CharTest; readonly to: number }[];
  /** States reached without reading a character. */
  readonly empty: number[];
}

const code = (char: string) => char.charCodeAt(0);
const isHex: CharTest = (c) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
// RFC 6570 section 1.5: unreserved and reserved (gen-delims and sub-delims) characters.
const isUnreserved: CharTest = (c) =>
  (c >= 65 && c <= 90) ||
  (c >= 97 && c <= 122) ||
  (c >= 48 && c <= 57) ||
  c === 45 ||
  c === 46 ||
  c === 95 ||
  c === 126;
const RESERVED = new Set([...":/?#[]@!$&'()*+,;="].map(code));
const isReserved: CharTest = (c) => isUnreserved(c) || RESERVED.has(c);
const is =
  (char: string): CharTest =>
  (c) =>
    c === code(char);
const either =
  (a: CharTest, b: CharTest): CharTest =>
  (c) =>
    a(c) || b(c);

// An expression's body: an optional operator, then variable names with optional modifiers.
const EXPRESSION = /^[+#./;?&]?[A-Za-z0-9_.%]+(?::[1-9][0-9]*|\*)?(?:,[A-Za-z0-9_.%]+(?::[1-9][0-9]*|\*)?)*$/;

class Automaton {
  readonly states: State[] = [];

  add(): number {
    this.states.push({ edges: [], empty: [] });
    return this.states.length - 1;
  }

  edge(from: number, test: CharTest, to: number): void {
    this.states[from]?.edges.push({ test, to });
  }

  empty(from: number, to: number): void {
    this.states[from]?.empty.push(to);
  }

  /** One character of `test`, or one percent-encoded octet, from `from` to `to`. */
  step(from: number, test: CharTest, to: number): void {
    this.edge(from, test, to);
    const percent = this.add();
    const half = this.add();
    this.edge(from, is("%"), percent);
    this.edge(percent, isHex, half);
    this.edge(half, isHex, to);
  }

  /** `operator` then any number of `chars` (or nothing at all): `{#x}`, `{.x}`, `{/x}`, `{?x}`, `{&x}`. */
  prefixed(entry: number, operator: string, chars: CharTest, exit: number): void {
    this.empty(entry, exit);
    const body = this.add();
    this.edge(entry, is(operator), body);
    this.step(body, chars, body);
    this.empty(body, exit);
  }

  /** The states an expression with `operator` adds after `entry`; returns its exit state. */
  expression(entry: number, operator: string): number {
    const exit = this.add();
    const list = either(isUnreserved, is(","));
    switch (operator) {
      case "+":
        this.step(entry, isReserved, entry);
        this.empty(entry, exit);
        break;
      case "#":
      case "?":
      case "&":
        this.prefixed(entry, operator, isReserved, exit);
        break;
      case ".":
        this.prefixed(entry, ".", isUnreserved, exit);
        break;
      case "/":
        this.prefixed(entry, "/", either(isUnreserved, is("/")), exit);
        break;
      case ";": {
        // (;name(=value,value...)?)*: a name of at least one character after each ";".
        this.empty(entry, exit);
        const name = this.add();
        const named = this.add();
        const value = this.add();
        this.edge(entry, is(";"), name);
        this.step(name, isUnreserved, named);
        this.step(named, isUnreserved, named);
        this.edge(named, is("="), value);
        this.step(value, list, value);
        this.edge(named, is(";"), name);
        this.edge(value, is(";"), name);
        this.empty(named, exit);
        this.empty(value, exit);
        break;
      }
      default:
        this.step(entry, list, entry);
        this.empty(entry, exit);
    }
    return exit;
  }
}

/** Expressions one template may hold: each adds to the cost of every match. */
export const MAX_EXPRESSIONS = 16;

/** Compiles `template` into a linear-time test; throws `TemplateSyntaxError` when it is not RFC 6570. */
export function compileTemplate(template: string): (topic: string) => boolean {
  const expressions = template.split("{").length - 1;
  if (expressions > MAX_EXPRESSIONS)
    throw new TemplateSyntaxError(
      `it has ${expressions} expressions; a template may have at most ${MAX_EXPRESSIONS}`,
    );
  const automaton = new Automaton();
  let current = automaton.add();
  let rest = template;
  // Literals compare UTF-16 code units, as topics are compared elsewhere.
  const literal = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      const next = automaton.add();
      const unit = text.charCodeAt(i);
      automaton.edge(current, (c) => c === unit, next);
      current = next;
    }
  };
  const firstOpen = template.indexOf("{");
  const prefix = firstOpen === -1 ? template : template.slice(0, firstOpen);
  const lastClose = template.lastIndexOf("}");
  const suffix = firstOpen === -1 || lastClose === -1 ? "" : template.slice(lastClose + 1);
  // The literal prefix is compared with startsWith; the automaton starts after it.
  rest = template.slice(prefix.length);
  const start = current;
  for (;;) {
    const open = rest.indexOf("{");
    if (open === -1) break;
    const close = rest.indexOf("}", open);
    if (close === -1) throw new TemplateSyntaxError("an expression opened with { is not closed with }");
    const body = rest.slice(open + 1, close);
    if (!EXPRESSION.test(body)) throw new TemplateSyntaxError(`"{${body}}" is not an RFC 6570 expression`);
    literal(rest.slice(0, open));
    const operator = /^[+#./;?&]/.test(body) ? (body[0] ?? "") : "";
    const entry = automaton.add();
    automaton.empty(current, entry);
    current = automaton.expression(entry, operator);
    rest = rest.slice(close + 1);
  }
  literal(rest);
  const accept = current;
  const simulate = run(automaton.states, start, accept);
  return (topic) =>
    topic.length >= prefix.length + suffix.length &&
    topic.startsWith(prefix) &&
    topic.endsWith(suffix) &&
    simulate(topic, prefix.length);
}

/** The simulation: the set of live states after each character, each state at most once. */
function run(
  states: readonly State[],
  start: number,
  accept: number,
): (topic: string, from: number) => boolean {
  // seen[state] === generation: already live for this character. Reset before the counter wraps.
  const seen = new Uint32Array(states.length);
  let generation = 0;
  let live = new Int32Array(states.length);
  let next = new Int32Array(states.length);
  let nextCount = 0;
  const enter = (state: number) => {
    if (seen[state] === generation) return;
    seen[state] = generation;
    next[nextCount++] = state;
    for (const other of states[state]?.empty ?? []) enter(other);
  };
  const newGeneration = () => {
    if (generation === 0xffffffff) {
      seen.fill(0);
      generation = 0;
    }
    generation++;
    nextCount = 0;
  };
  return (topic, from) => {
    newGeneration();
    enter(start);
    for (let i = from; i < topic.length && nextCount > 0; i++) {
      const swap = live;
      live = next;
      next = swap;
      const liveCount = nextCount;
      const c = topic.charCodeAt(i);
      newGeneration();
      for (let k = 0; k < liveCount; k++) {
        for (const edge of states[live[k] ?? 0]?.edges ?? []) if (edge.test(c)) enter(edge.to);
      }
    }
    for (let k = 0; k < nextCount; k++) if (next[k] === accept) return true;
    return false;
  };
}
