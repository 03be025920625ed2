#include "hanshiro/version.h"

namespace hanshiro {

std::string_view Version() { return HANSHIRO_VERSION; }

}  // namespace hanshiro
