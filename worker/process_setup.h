#ifndef NAS_WORKER_PROCESS_SETUP_H_
#define NAS_WORKER_PROCESS_SETUP_H_

// What every process that trains does first (nas-worker in all its modes,
// the training benchmarks), so that its first trial runs as fast as its
// later ones. See bench/README.md ("First trial of a fresh process") for the
// measurements behind it.

#include <string>

namespace nas::worker {

// Call first thing in main(), before any other thread starts. glibc keeps
// freed memory for reuse: by default blocks of 128 KiB and more (a batch's
// activations and gradients) are mmap'ed and unmapped on every free, and
// the threshold only grows as such blocks are freed, so a fresh process
// page-faults (and the kernel zeroes) every activation buffer of its first
// trial again at every step (4.6-5x slower steps). The mmap threshold is set
// to glibc's maximum (32 MiB) and the trim threshold to 256 MiB;
// MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ in the environment win.
// Returns a line for the log saying what was set.
std::string PrepareTrainingProcess();

// The cores this process may use: its CPU affinity mask, capped by a cgroup
// v2 CPU quota (cpu.max, as a container's CPU limit sets it) rounded up;
// at least 1.
int UsableCores();

}  // namespace nas::worker

#endif  // NAS_WORKER_PROCESS_SETUP_H_
