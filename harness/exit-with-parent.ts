/**
 * Preloaded (`--import`) into each server process a cluster starts: the process exits when its
 * stdin closes, i.e. when the test or soak process that started it is gone, however it died.
 * Nothing is left running on the machine.
 */
process.stdin.on('end', () => process.exit(1));
process.stdin.resume();
// Never what keeps the process alive: the server's own handles do that.
process.stdin.unref();
