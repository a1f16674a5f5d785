#ifndef NAS_WORKER_PROCESS_SETUP_H_
#define NAS_WORKER_PROCESS_SETUP_H_

// What every process that trains does first (nas-worker in all its modes,
// the training benchmarks), so that its first trial runs as fast as its
// later ones and several such processes can share a host. See
// bench/README.md ("First trial") for the measurements behind each step.

#include <string>

namespace nas::worker {

// Call first thing in main(), before any other thread starts:
//  1. OpenMP waits passively. libgomp reads OMP_WAIT_POLICY and
//     GOMP_SPINCOUNT once, when it is loaded (before main), and by default
//     a thread that finished its share of a parallel region spins for
//     ~300,000 iterations before it sleeps. Two such processes on the same
//     cores spin against each other's work. Unless either variable is set,
//     the process sets GOMP_SPINCOUNT (see kOpenMpSpinCount) and re-executes
//     itself (/proc/self/exe with the same arguments) once, so the setting
//     takes effect; if the re-exec fails it goes on with the defaults.
//  2. glibc keeps freed memory for reuse: by default blocks of 128 KiB and
//     more (a batch's activations and gradients) are mmap'ed and unmapped
//     on every free, and the threshold only grows as such blocks are freed,
//     so a fresh process page-faults (and the kernel zeroes) every
//     activation buffer of its first trial again at every step. The mmap
//     threshold is set to glibc's maximum (32 MiB) and the trim threshold to
//     256 MiB. MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ in the
//     environment win.
// Returns a line for the log saying what was set.
std::string PrepareTrainingProcess(char** argv);

// The spin count set by PrepareTrainingProcess (libgomp's default is
// 300,000; with it two 2-thread workers on 2 cores trained 8x slower).
inline constexpr const char* kOpenMpSpinCount = "10000";

// glibc's malloc settings of step 2 alone (PrepareTrainingProcess does this
// too); for processes that must not re-execute (tests).
std::string KeepFreedMemoryForReuse();

// The cores this process may use: its CPU affinity mask, capped by a cgroup
// v2 CPU quota (cpu.max, as a container's CPU limit sets it) rounded up;
// at least 1.
int UsableCores();

}  // namespace nas::worker

#endif  // NAS_WORKER_PROCESS_SETUP_H_
