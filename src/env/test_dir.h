// A fresh temporary directory per test, removed afterwards (test-only).
#ifndef HANSHIRO_ENV_TEST_DIR_H_
#define HANSHIRO_ENV_TEST_DIR_H_

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace hanshiro::testing {

class TestDir {
 public:
  TestDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "hanshiro-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = pattern;
  }
  ~TestDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace hanshiro::testing

#endif  // HANSHIRO_ENV_TEST_DIR_H_
