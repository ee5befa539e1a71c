/** A listener of one message type: it gets the message already checked against the contract. */
export type MessageListener<M> = (message: M) => void;

/**
 * Who else hears the socket's messages, by type: a feature (the alerts bell) subscribes to the
 * types it owns instead of the store that owns the socket growing a case per feature.
 */
export class MessageListeners<M extends { type: string }> {
  readonly #byType = new Map<string, Set<MessageListener<never>>>();

  /** Calls `listener` with every message of `type`; returns the function that stops it. */
  on<T extends M['type']>(type: T, listener: MessageListener<Extract<M, { type: T }>>): () => void {
    const set = this.#byType.get(type) ?? new Set();
    set.add(listener as MessageListener<never>);
    this.#byType.set(type, set);
    return () => {
      set.delete(listener as MessageListener<never>);
      if (set.size === 0 && this.#byType.get(type) === set) this.#byType.delete(type);
    };
  }

  /** Hands `message` to the listeners of its type; one that throws does not stop the others. */
  emit(message: M): number {
    const set = this.#byType.get(message.type);
    if (set === undefined) return 0;
    for (const listener of [...set]) {
      try {
        (listener as MessageListener<M>)(message);
      } catch (error) {
        // Reported as uncaught (the page's error handler sees it), after the others ran.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    return set.size;
  }
}
