# BLAKE3 from Debian's librust-blake3-dev, which ships the reference C
# implementation and its x86-64 assembly. The sources are compiled into the
# build (never copied into the tree); blake3_dispatch.c picks the widest
# instruction set the CPU supports at run time.
file(GLOB _blake3_dirs LIST_DIRECTORIES true /usr/share/cargo/registry/blake3-*/c)
if(NOT _blake3_dirs)
  message(FATAL_ERROR "BLAKE3 C sources not found under /usr/share/cargo/registry: "
                      "install librust-blake3-dev (scripts/setup.sh does)")
endif()
list(SORT _blake3_dirs COMPARE NATURAL ORDER DESCENDING)
list(GET _blake3_dirs 0 BLAKE3_C_DIR)
message(STATUS "BLAKE3 sources: ${BLAKE3_C_DIR}")

set(_blake3_sources
  ${BLAKE3_C_DIR}/blake3.c
  ${BLAKE3_C_DIR}/blake3_dispatch.c
  ${BLAKE3_C_DIR}/blake3_portable.c)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  list(APPEND _blake3_sources
    ${BLAKE3_C_DIR}/blake3_sse2_x86-64_unix.S
    ${BLAKE3_C_DIR}/blake3_sse41_x86-64_unix.S
    ${BLAKE3_C_DIR}/blake3_avx2_x86-64_unix.S
    ${BLAKE3_C_DIR}/blake3_avx512_x86-64_unix.S)
  set(_blake3_defs)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  list(APPEND _blake3_sources ${BLAKE3_C_DIR}/blake3_neon.c)
  set(_blake3_defs BLAKE3_USE_NEON=1)
else()
  set(_blake3_defs BLAKE3_NO_SSE2 BLAKE3_NO_SSE41 BLAKE3_NO_AVX2 BLAKE3_NO_AVX512 BLAKE3_USE_NEON=0)
endif()

add_library(blake3 STATIC ${_blake3_sources})
target_include_directories(blake3 SYSTEM PUBLIC ${BLAKE3_C_DIR})
target_compile_definitions(blake3 PRIVATE ${_blake3_defs})
set_target_properties(blake3 PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_compile_options(blake3 PRIVATE -w)
