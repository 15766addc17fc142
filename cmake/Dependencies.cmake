# Finds every dependency the standard way; a missing one stops configure with
# the name of the Debian package that provides it (tools/setup installs them all).
find_package(PkgConfig QUIET)

find_package(OpenCL QUIET)
if(NOT OpenCL_FOUND)
  message(FATAL_ERROR "OpenCL not found: apt-get install ocl-icd-opencl-dev opencl-headers")
endif()

add_library(clt_clblast INTERFACE)
find_package(CLBlast CONFIG QUIET)
if(TARGET clblast)
  target_link_libraries(clt_clblast INTERFACE clblast)
elseif(PkgConfig_FOUND)
  pkg_check_modules(CLBLAST QUIET IMPORTED_TARGET clblast)
  if(CLBLAST_FOUND)
    target_link_libraries(clt_clblast INTERFACE PkgConfig::CLBLAST)
  endif()
endif()
if(NOT TARGET clblast AND NOT CLBLAST_FOUND)
  message(FATAL_ERROR "CLBlast not found: apt-get install libclblast-dev")
endif()

find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  message(FATAL_ERROR "zlib not found: apt-get install zlib1g-dev")
endif()

if(NOT PkgConfig_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

pkg_check_modules(CJSON QUIET IMPORTED_TARGET libcjson)
if(NOT CJSON_FOUND)
  message(FATAL_ERROR "cJSON not found: apt-get install libcjson-dev")
endif()
add_library(clt_cjson INTERFACE)
target_link_libraries(clt_cjson INTERFACE PkgConfig::CJSON)

pkg_check_modules(XXHASH QUIET IMPORTED_TARGET libxxhash)
if(NOT XXHASH_FOUND)
  message(FATAL_ERROR "xxHash not found: apt-get install libxxhash-dev")
endif()
add_library(clt_xxhash INTERFACE)
target_link_libraries(clt_xxhash INTERFACE PkgConfig::XXHASH)

# Image folders and `predict` on images: Debian's decoders, not our own (data/image_decode.h).
pkg_check_modules(PNG QUIET IMPORTED_TARGET libpng)
pkg_check_modules(JPEG QUIET IMPORTED_TARGET libjpeg)
if(NOT PNG_FOUND OR NOT JPEG_FOUND)
  message(FATAL_ERROR "libpng or libjpeg-turbo not found: apt-get install libpng-dev "
                      "libjpeg62-turbo-dev")
endif()
add_library(clt_images INTERFACE)
target_link_libraries(clt_images INTERFACE PkgConfig::PNG PkgConfig::JPEG)

if(CLT_BUILD_TESTS)
  pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET cmocka)
  if(NOT CMOCKA_FOUND)
    message(FATAL_ERROR "cmocka not found: apt-get install libcmocka-dev")
  endif()
endif()

# Open MPI (or another MPI): several processes and machines (src/dist/peers_mpi.c, the CLI's
# launch under mpirun, tools/allreduce-bench). Optional: without it the library is built with
# the single-process peers (src/dist/peers.c) and `mpirun cltrain` says so.
find_package(MPI QUIET COMPONENTS C)
if(MPI_C_FOUND)
  set(CLT_HAVE_MPI ON)
else()
  set(CLT_HAVE_MPI OFF)
  message(STATUS "MPI not found: cltrain is built for one process (apt-get install openmpi-bin libopenmpi-dev for mpirun)")
endif()
