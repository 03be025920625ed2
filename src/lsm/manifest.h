// lsm::Manifest: encodes, decodes and installs the store's version
// (docs/format/manifest.md; rule tags [MAN-n] refer to it). Install writes
// MANIFEST.tmp, syncs it, renames it over MANIFEST and syncs the directory,
// so a crash leaves either the old version or the new one. Stateless and
// thread-safe; callers serialize installs.
#ifndef HANSHIRO_LSM_MANIFEST_H_
#define HANSHIRO_LSM_MANIFEST_H_

#include <optional>
#include <string>
#include <string_view>

#include "hanshiro/env.h"
#include "lsm/version.h"

namespace hanshiro::lsm::manifest {

constexpr std::string_view kMagic = "HSMANIFS";
constexpr uint32_t kVersion = 1;
constexpr std::string_view kFileName = "MANIFEST";

std::string Encode(const Version& version);
// Checks every rule; Corruption naming it (and `where`) otherwise.
Result<Version> Decode(std::string_view bytes, std::string_view where);

Status Install(Env* env, const std::string& dir, const Version& version);
// The installed version, or nullopt when the directory has no manifest.
Result<std::optional<Version>> Load(Env* env, const std::string& dir);

}  // namespace hanshiro::lsm::manifest

#endif  // HANSHIRO_LSM_MANIFEST_H_
