// Test-only: runs a body once per Highway SIMD target that is compiled in and
// supported by this CPU (down to the portable scalar one), so a kernel's
// tests cover every dispatch path, not only the best one.
#ifndef HANSHIRO_BASE_SIMD_TEST_UTIL_H_
#define HANSHIRO_BASE_SIMD_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <hwy/targets.h>

namespace hanshiro::testing {

template <typename Body>
void ForEachSimdTarget(Body body) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    SCOPED_TRACE(hwy::TargetName(target));
    body();
  }
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace hanshiro::testing

#endif  // HANSHIRO_BASE_SIMD_TEST_UTIL_H_
