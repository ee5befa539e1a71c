import type { ClientMessage } from '@livestat/contracts';

/** The slice of a WebSocket used here: the browser's fits it, and so does `ws`'s. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
}

/** What `new WebSocket(url)` is: the browser's class by default, `ws`'s in Node tests. */
export type SocketConstructor = new (url: string) => SocketLike;

/**
 * Where a socket goes: its URL, or a function that makes the URL first — buying the single-use
 * ticket the dashboard opens every socket with (`POST /api/ws/ticket`), so its JWT never travels
 * in a URL. The function is aborted (its signal) when the attempt is abandoned.
 */
export type SocketTarget = string | ((signal: AbortSignal) => Promise<string>);

/**
 * Why a socket could not even be asked for (its ticket refused, the API unreachable): the
 * {@link StreamSocket} reports it as a close with this code and reason, as the server would have.
 */
export class SocketOpenError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'SocketOpenError';
  }
}

// The WebSocket readyState values, the same in browsers and `ws`.
const CONNECTING = 0;
const OPEN = 1;

/** What a {@link StreamSocket} reports. */
export interface StreamSocketEvents {
  open(): void;
  /** A frame's data: a string for the text frames the server sends. */
  message(data: unknown): void;
  /**
   * The socket closed (or could not be made) without being asked to; `token` is the credential
   * it held, so a refusal can be matched to the session it refused.
   */
  close(code: number, reason: string, token: string): void;
}

/**
 * One WebSocket at a time to the stream, in VueUse `useWebSocket`'s habits: opening another
 * abandons the previous one, whose late events (a last frame, its close) are ignored; a close
 * asked for with {@link StreamSocket.close} is never reported, so it is never retried.
 */
export class StreamSocket {
  readonly #Socket: SocketConstructor;
  readonly #events: StreamSocketEvents;
  #socket: SocketLike | null = null;
  /** The URL being made (a ticket being bought) for the next socket; null when none is. */
  #pending: AbortController | null = null;
  #token: string | null = null;
  #explicitlyClosed = false;

  constructor(Socket: SocketConstructor, events: StreamSocketEvents) {
    this.#Socket = Socket;
    this.#events = events;
  }

  /** The socket is open and messages can be sent. */
  get isOpen(): boolean {
    return this.#socket?.readyState === OPEN;
  }

  /** A socket is being opened (or its URL made). */
  get isConnecting(): boolean {
    return this.#pending !== null || this.#socket?.readyState === CONNECTING;
  }

  /** The token the current socket stands for (the one it opened on, or the last renewed). */
  get token(): string | null {
    return this.#token;
  }

  /**
   * Opens a socket to `target` on behalf of `token`; one still opening is abandoned. A target
   * that fails is reported as a close: its {@link SocketOpenError}'s code, else 1006.
   */
  open(target: SocketTarget, token: string): void {
    const previous = this.#socket;
    this.#socket = null;
    if (previous?.readyState === CONNECTING) previous.close(1000, 'replaced');
    this.#pending?.abort();
    this.#pending = null;
    this.#explicitlyClosed = false;
    this.#token = token;
    if (typeof target === 'string') {
      this.#connect(target, token);
      return;
    }
    const pending = new AbortController();
    this.#pending = pending;
    target(pending.signal).then(
      (url) => {
        if (this.#pending !== pending) return;
        this.#pending = null;
        this.#connect(url, token);
      },
      (error: unknown) => {
        if (this.#pending !== pending) return;
        this.#pending = null;
        this.#token = null;
        const { code, reason } =
          error instanceof SocketOpenError
            ? error
            : { code: 1006, reason: error instanceof Error ? error.message : 'cannot connect' };
        this.#events.close(code, reason, token);
      },
    );
  }

  #connect(url: string, token: string): void {
    let ws: SocketLike;
    try {
      ws = new this.#Socket(url);
    } catch (error) {
      // A socket that cannot even be made (a bad URL, a blocked scheme) is a failed attempt.
      this.#token = null;
      this.#events.close(1006, error instanceof Error ? error.message : 'no WebSocket', token);
      return;
    }
    this.#socket = ws;
    ws.onopen = () => {
      if (this.#socket === ws) this.#events.open();
    };
    ws.onmessage = (event) => {
      if (this.#socket === ws) this.#events.message(event.data);
    };
    ws.onclose = (event) => {
      if (this.#socket !== ws) return;
      this.#socket = null;
      this.#token = null;
      if (!this.#explicitlyClosed) this.#events.close(event.code, event.reason, token);
    };
    ws.onerror = () => {
      // A close event follows with the code; nothing to do here.
    };
  }

  /** Closes the socket on purpose (1000 when leaving the dashboard); nothing is reported. */
  close(code = 1000, reason = ''): void {
    this.#explicitlyClosed = true;
    this.#pending?.abort();
    this.#pending = null;
    this.#socket?.close(code, reason);
  }

  /** Sends a client message; false when the socket is not open. */
  send(message: ClientMessage): boolean {
    if (this.#socket?.readyState !== OPEN) return false;
    this.#socket.send(JSON.stringify(message));
    return true;
  }

  /** Hands the open socket a new token (`{type:'auth'}`) before the old one runs out. */
  renew(token: string): boolean {
    if (!this.send({ type: 'auth', token })) return false;
    this.#token = token;
    return true;
  }
}
