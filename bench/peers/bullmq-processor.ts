/** BullMQ's sandboxed processor for the CPU-heavy workload: it runs in a BullMQ worker thread. */
import type { PeerPayload, PeerResult } from './tasks.js';
import { runTask } from './tasks.js';

export default function process(job: { data: PeerPayload }): PeerResult {
  return runTask(job.data);
}
