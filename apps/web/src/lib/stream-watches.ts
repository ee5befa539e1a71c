/** A client message, as far as the registry cares: its type. */
export interface WatchMessage {
  type: string;
}

/** A server message a watch is answered with: its type and host. */
export interface WatchedMessage {
  type: string;
  host: string;
}

/**
 * One full table asked of the server for one host (`watch_cgroups`, `watch_processes`): the
 * message type it is answered with, the messages that start and end it, and who gets each answer.
 */
export interface WatchSpec<W extends WatchMessage = WatchMessage> {
  /** The server message type that answers: `cgroups`, `processes`. */
  type: string;
  host: string;
  watch: W;
  unwatch: W;
}

interface Entry {
  spec: WatchSpec;
  receive: (message: WatchedMessage) => void;
}

const route = (type: string, host: string) => `${type}\n${host}`;
const sameMessage = (a: WatchMessage, b: WatchMessage) => JSON.stringify(a) === JSON.stringify(b);
/**
 * The full tables the dashboard watches on its one socket. The server forgets a socket's watches
 * when it closes, so every watch is sent again on each open; a watch is sent when its first
 * subscriber comes and its unwatch when the last subscriber of that type and host goes. Answers
 * are handed to the subscribers of their type and host.
 */
export class StreamWatches {
  readonly #send: (message: WatchMessage) => boolean;
  readonly #entries = new Set<Entry>();

  /** `send` posts a message on the socket, false (and nothing sent) when it is not open. */
  constructor(send: (message: WatchMessage) => boolean) {
    this.#send = send;
  }

  /** How many subscriptions are held (for tests and the README's promise of no leaks). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Subscribes `receive` to the answers of `spec`, sending its watch now if the socket is open (or
   * at the next open); returns the function that ends the subscription, safe to call twice.
   */
  add<W extends WatchMessage>(
    spec: WatchSpec<W>,
    receive: (message: WatchedMessage) => void,
  ): () => void {
    const entry: Entry = { spec, receive };
    const sameWatch = [...this.#entries].some((other) => sameMessage(other.spec.watch, spec.watch));
    this.#entries.add(entry);
    if (!sameWatch) this.#send(spec.watch);
    return () => this.#remove(entry);
  }

  #remove(entry: Entry): void {
    if (!this.#entries.delete(entry)) return;
    const key = route(entry.spec.type, entry.spec.host);
    const remaining = [...this.#entries].filter(
      (other) => route(other.spec.type, other.spec.host) === key,
    );
    // The server keeps one watch of a type per host: another subscriber's stays asked for.
    if (remaining.length === 0) this.#send(entry.spec.unwatch);
    else if (!remaining.some((other) => sameMessage(other.spec.watch, entry.spec.watch))) {
      this.#send(remaining[remaining.length - 1]!.spec.watch);
    }
  }

  /** The socket (re)opened: asks again for every table still watched, once each. */
  opened(): void {
    const sent = new Set<string>();
    for (const { spec } of this.#entries) {
      const text = JSON.stringify(spec.watch);
      if (sent.has(text)) continue;
      sent.add(text);
      this.#send(spec.watch);
    }
  }

  /** Hands `message` to the subscribers of its type and host; false when it had none. */
  deliver(message: WatchedMessage): boolean {
    const key = route(message.type, message.host);
    let delivered = false;
    for (const entry of [...this.#entries]) {
      if (route(entry.spec.type, entry.spec.host) !== key) continue;
      delivered = true;
      entry.receive(message);
    }
    return delivered;
  }
}
