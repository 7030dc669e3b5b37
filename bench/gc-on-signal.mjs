// Loaded into the server's process by the benchmark only (`node --expose-gc --import …`): on
// SIGUSR2 it runs full garbage collections, so that memory samples read live data, not garbage.
// It changes nothing else in the server.
if (typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    globalThis.gc();
    globalThis.gc();
  });
}
