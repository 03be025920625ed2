// The HanshiroDB version, set by the build from the CMake project version.
#ifndef HANSHIRO_VERSION_H_
#define HANSHIRO_VERSION_H_

#include <string_view>

namespace hanshiro {

std::string_view Version();  // "0.1.0"

}  // namespace hanshiro

#endif  // HANSHIRO_VERSION_H_
