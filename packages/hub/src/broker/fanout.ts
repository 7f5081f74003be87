/**
 * The live subscribers and the fan-out of an update to them: subscribers with exact topics only are
 * indexed by topic, those with a pattern are tested one by one, and every candidate still decides
 * with `accepts`. Not responsible for writing bytes (subscriber.ts) or authorization rules (auth.ts).
 */

import { exactTopic, type Selector } from "../domain/topics.js";
import type { Dispatch, Subscriber } from "./subscriber.js";

export class Fanout implements Iterable<Subscriber> {
  // No set of all subscribers (an entry each): the index and the pattern set hold each one.
  #size = 0;
  /**
   * Subscribers with only exact selectors, under each of their topics: the subscriber itself while
   * it is the topic's only one (most topics have one: a Set each would cost some 0.2 KiB), a Set from
   * the second on.
   */
  readonly #byTopic = new Map<string, Subscriber | Set<Subscriber>>();
  /** Subscribers with at least one pattern selector: tested on every public update. */
  readonly #patterns = new Set<Subscriber>();
  /**
   * Those of `#patterns` whose token grants some topics: the only ones a private update (such as
   * a subscription event) can reach, so that it costs nothing per anonymous pattern subscriber.
   */
  readonly #grantedPatterns = new Set<Subscriber>();
  /**
   * The distinct pattern selectors of the subscribers here, with how many subscribers use each.
   * What a public update costs grows with their number: the same pattern shared by many
   * subscribers runs once per topic (topics.ts remembers its last answer).
   */
  readonly #patternTexts = new Map<string, number>();

  /** Subscribers here whose token grants some topics. */
  #granted = 0;

  /** True when some subscriber here may receive private updates (its token grants topics). */
  get anyGranted(): boolean {
    return this.#granted > 0;
  }

  /** Distinct pattern selectors (URI templates, URL Patterns, `*`) of the subscribers here. */
  get distinctPatterns(): number {
    return this.#patternTexts.size;
  }

  /** How many of `selectors`' patterns no subscriber here uses yet. */
  newPatterns(selectors: readonly Selector[]): number {
    let count = 0;
    for (const selector of selectors)
      if (exactTopic(selector) === undefined && !this.#patternTexts.has(patternKey(selector))) count++;
    return count;
  }

  get size(): number {
    return this.#size;
  }

  *[Symbol.iterator](): Iterator<Subscriber> {
    yield* this.#patterns;
    for (const [topic, here] of this.#byTopic) {
      // A subscriber of several topics is under each: it is listed under its first.
      if (here instanceof Set) {
        for (const subscriber of here) if (firstTopic(subscriber) === topic) yield subscriber;
      } else if (firstTopic(here) === topic) yield here;
    }
  }

  /** Whether `subscriber` is here. */
  has(subscriber: Subscriber): boolean {
    if (this.#patterns.has(subscriber)) return true;
    const topic = firstTopic(subscriber);
    if (topic === undefined) return false;
    const here = this.#byTopic.get(topic);
    return here === subscriber || (here instanceof Set && here.has(subscriber));
  }

  add(subscriber: Subscriber): void {
    if (this.has(subscriber)) return;
    this.#size++;
    if (subscriber.rights.subscribe.length > 0) this.#granted++;
    const topics = topicsOf(subscriber);
    if (topics === undefined) {
      this.#patterns.add(subscriber);
      if (subscriber.rights.subscribe.length > 0) this.#grantedPatterns.add(subscriber);
      for (const selector of subscriber.selectors) {
        if (exactTopic(selector) !== undefined) continue;
        const key = patternKey(selector);
        this.#patternTexts.set(key, (this.#patternTexts.get(key) ?? 0) + 1);
      }
      return;
    }
    for (const topic of topics) {
      const here = this.#byTopic.get(topic);
      if (here === undefined) this.#byTopic.set(topic, subscriber);
      else if (here instanceof Set) here.add(subscriber);
      else if (here !== subscriber) this.#byTopic.set(topic, new Set([here, subscriber]));
    }
  }

  /** Removes a subscriber; false when it was not here. */
  delete(subscriber: Subscriber): boolean {
    if (!this.has(subscriber)) return false;
    this.#size--;
    if (subscriber.rights.subscribe.length > 0) this.#granted--;
    if (this.#patterns.delete(subscriber)) {
      this.#grantedPatterns.delete(subscriber);
      for (const selector of subscriber.selectors) {
        if (exactTopic(selector) !== undefined) continue;
        const key = patternKey(selector);
        const users = (this.#patternTexts.get(key) ?? 1) - 1;
        if (users === 0) this.#patternTexts.delete(key);
        else this.#patternTexts.set(key, users);
      }
      return true;
    }
    for (const topic of topicsOf(subscriber) ?? []) {
      const here = this.#byTopic.get(topic);
      if (here === subscriber) this.#byTopic.delete(topic);
      else if (here instanceof Set) {
        here.delete(subscriber);
        if (here.size === 0) this.#byTopic.delete(topic);
      }
    }
    return true;
  }

  /** Hands `dispatch` to every subscriber that accepts it; returns how many wrote it at once. */
  dispatch(dispatch: Dispatch): number {
    const { update } = dispatch;
    let written = 0;
    const topics = update.topics;
    // An update on several topics may find one subscriber under more than one of them.
    const seen = topics.length > 1 ? new Set<Subscriber>() : undefined;
    for (const topic of topics) {
      const here = this.#byTopic.get(topic);
      if (here === undefined) continue;
      if (here instanceof Set) {
        for (const subscriber of here) if (offer(subscriber, dispatch, seen)) written++;
      } else if (offer(here, dispatch, seen)) written++;
    }
    for (const subscriber of update.private ? this.#grantedPatterns : this.#patterns) {
      if (subscriber.accepts(update) && subscriber.deliver(dispatch)) written++;
    }
    return written;
  }
}

/** Delivers `dispatch` to `subscriber` if it accepts it and `seen` does not have it yet; true when written. */
function offer(subscriber: Subscriber, dispatch: Dispatch, seen: Set<Subscriber> | undefined): boolean {
  if (seen !== undefined) {
    if (seen.has(subscriber)) return false;
    seen.add(subscriber);
  }
  return subscriber.accepts(dispatch.update) && subscriber.deliver(dispatch);
}

/** How many of `selectors` are patterns (not one exact topic). */
export function patternCount(selectors: readonly Selector[]): number {
  let count = 0;
  for (const selector of selectors) if (exactTopic(selector) === undefined) count++;
  return count;
}

function patternKey(selector: Selector): string {
  return `${selector.kind}\u0000${selector.text}`;
}

/** The distinct exact topics of a subscriber, or undefined when one of its selectors is a pattern. */
function topicsOf(subscriber: Subscriber): readonly string[] | undefined {
  const topics: string[] = [];
  for (const selector of subscriber.selectors) {
    const topic = exactTopic(selector);
    if (topic === undefined) return undefined;
    if (!topics.includes(topic)) topics.push(topic);
  }
  return topics;
}

/** The exact topic of a subscriber's first selector (its first topic, when all are exact). */
function firstTopic(subscriber: Subscriber): string | undefined {
  const first = subscriber.selectors[0];
  return first === undefined ? undefined : exactTopic(first);
}
