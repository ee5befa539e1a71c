/**
 * Twenty scalar series of the catalogue: the width of request the heavy-history tests send,
 * as an attacker with a viewer's token would (the API caps a request at this many series).
 */
export const TWENTY_SERIES: readonly string[] = [
  'cpu.usagePercent',
  'cpu.userPercent',
  'cpu.systemPercent',
  'cpu.iowaitPercent',
  'cpu.stealPercent',
  'cpu.load1',
  'memory.usedBytes',
  'memory.cachedBytes',
  'memory.buffersBytes',
  'memory.freeBytes',
  'memory.swapUsedBytes',
  'network.rxBytesPerSec',
  'network.txBytesPerSec',
  'disk.readBytesPerSec',
  'disk.writeBytesPerSec',
  'disk.readOpsPerSec',
  'disk.writeOpsPerSec',
  'disk.busyPercent',
  'perf.ipc',
  'perf.cyclesPerSec',
];
