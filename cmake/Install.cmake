# `cmake --install`: libcltrain.so (versioned SONAME) and libcltrain.a, the public headers,
# the cltrain command, the model files (share/cltrain/models, where the command looks for a
# bare model name), a pkg-config file and a CMake package (find_package(cltrain) gives
# cltrain::cltrain). Both description files locate the prefix from their own place, so an
# installed tree can be moved or installed with --prefix.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS cltrain_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS cltrain_lib ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS cltrain RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/cltrain/cltrain.h ${CMAKE_SOURCE_DIR}/include/cltrain/status.h
              ${CMAKE_SOURCE_DIR}/include/cltrain/export.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cltrain)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/cltrain/models
        FILES_MATCHING PATTERN "*.cfg")

set(CLT_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
set(CLT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/cltrain)
# From each description file's folder back to the prefix ("../.." for lib/pkgconfig).
file(RELATIVE_PATH CLT_PC_TO_PREFIX /prefix/${CLT_PKGCONFIG_DIR} /prefix)
file(RELATIVE_PATH CLT_CMAKE_TO_PREFIX /prefix/${CLT_CMAKE_DIR} /prefix)
# The shared library's own dependencies, for static linking (pkg-config --static).
set(CLT_PC_PRIVATE "-lOpenCL -lclblast -lz -lcjson -lxxhash -lpng -ljpeg -lm")
if(CLT_HAVE_MPI)
  # libmpi's folder and name as found (Debian: /usr/lib/x86_64-linux-gnu/openmpi/lib).
  foreach(lib IN LISTS MPI_C_LIBRARIES)
    get_filename_component(dir ${lib} DIRECTORY)
    get_filename_component(name ${lib} NAME_WE)
    string(REGEX REPLACE "^lib" "" name ${name})
    string(APPEND CLT_PC_PRIVATE " -L${dir} -l${name}")
  endforeach()
  # cltrainConfig.cmake finds MPI too when CLT_HAVE_MPI (the linker's -rpath-link).
endif()

configure_file(${CMAKE_SOURCE_DIR}/cmake/cltrain.pc.in ${CMAKE_BINARY_DIR}/cltrain.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/cltrain.pc DESTINATION ${CLT_PKGCONFIG_DIR})

configure_file(${CMAKE_SOURCE_DIR}/cmake/cltrainConfig.cmake.in
               ${CMAKE_BINARY_DIR}/cltrainConfig.cmake @ONLY)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cltrainConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cltrainConfig.cmake ${CMAKE_BINARY_DIR}/cltrainConfigVersion.cmake
        DESTINATION ${CLT_CMAKE_DIR})
