#ifndef NAS_NASCTL_REPORT_DATA_H_
#define NAS_NASCTL_REPORT_DATA_H_

#include <cstdint>
#include <vector>

#include "proto/nas.pb.h"

namespace nas::nasctl {

// Everything `nasctl report` shows of one search, as read from the
// controller. Plain value type.
struct ReportData {
  v1::Search search;
  std::vector<v1::Trial> trials;  // Every trial, by number.
  std::vector<v1::Trial> front;   // GetParetoFront (no device filter).
  v1::PolicyState policy;
  int64_t generated_unix_ms = 0;
};

// The search's device profile: the resolved one the controller stores in
// the completed spec, else the built-in profile named by `device`; an
// empty profile (no limits) when neither is known.
v1::DeviceProfile SearchDevice(const v1::SearchSpec& spec);

// The trials with measured metrics (SUCCEEDED or CACHED), by number.
std::vector<const v1::Trial*> MeasuredTrials(const ReportData& data);

}  // namespace nas::nasctl

#endif  // NAS_NASCTL_REPORT_DATA_H_
