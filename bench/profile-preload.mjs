// Loaded into the server's process by bench/profile.ts only (`node --import …`, with an IPC
// channel): on {profile: 'start'} it starts V8's CPU profiler and its sampling heap profiler
// (keeping the samples of objects the GC has collected since, so it shows what is allocated,
// not only what stays), on {profile: 'stop', cpu, heap} it writes both files and answers
// {profiled: true}. It changes nothing else in the server.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

if (process.send) {
  const session = new Session();
  session.connect();
  process.on('message', async (message) => {
    if (message?.profile === 'start') {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: message.intervalMicros ?? 250 });
      await session.post('Profiler.start');
      await session.post('HeapProfiler.enable');
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: message.heapInterval ?? 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      process.send({ profiling: true });
    } else if (message?.profile === 'stop') {
      const { profile } = await session.post('Profiler.stop');
      const heap = await session.post('HeapProfiler.stopSampling');
      writeFileSync(message.cpu, JSON.stringify(profile));
      writeFileSync(message.heap, JSON.stringify(heap.profile));
      process.send({ profiled: true });
    }
  });
  // The IPC channel must not keep the server alive, nor be what stops it.
  process.channel?.unref();
}
