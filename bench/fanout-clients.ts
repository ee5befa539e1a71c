// bench/fanout: the load generator, in its own process, driven by bench/fanout.ts over IPC.
// Opens N WebSocket clients and records, per snapshot received, the delay from the
// snapshot's timestamp (set when it was published) to its arrival. Only the head of each
// frame is decoded: JSON-parsing 10k frames a second here would steal the CPU being measured.
//
//   argv: <url> <clients>   IPC out: {opened, failed} | {latencies: number[]}   IPC in: {cmd}
import WebSocket from 'ws';

const [url, countText] = process.argv.slice(2);
const count = Number(countText);
if (!url || !Number.isInteger(count) || count < 1) {
  console.error('usage: fanout-clients.ts <ws-url> <clients>');
  process.exit(2);
}
const send = (message: unknown) => process.send?.(message);

let measuring = false;
let latencies: number[] = [];
let opened = 0;
let failed = 0;
const sockets: WebSocket[] = [];
const HEAD = /"type":"snapshot".*?"timestamp":"([^"]+)"/;

function open(): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url!, { perMessageDeflate: false });
    sockets.push(socket);
    socket.on('open', () => {
      opened += 1;
      resolve();
    });
    socket.on('message', (data: Buffer) => {
      if (!measuring) return;
      const match = HEAD.exec(data.toString('latin1', 0, 200));
      if (match?.[1]) latencies.push(Date.now() - Date.parse(match[1]));
    });
    socket.on('error', () => {
      failed += 1;
      resolve();
    });
  });
}

// Connect in waves so the server sees a realistic ramp, not 10k simultaneous handshakes.
const WAVE = 250;
for (let i = 0; i < count; i += WAVE) {
  await Promise.all(Array.from({ length: Math.min(WAVE, count - i) }, open));
}
send({ opened, failed });

process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'measure') {
    latencies = [];
    measuring = true;
  } else if (message.cmd === 'report') {
    measuring = false;
    send({ latencies });
  } else if (message.cmd === 'exit') {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  }
});
