# The ONNX export (src/export) writes its protobuf messages with protobuf-c. The C code for
# onnx.proto is generated here at build time by protoc-c from the onnx.proto that Debian's
# python3-onnx installs (never copied into the tree), into the build folder, and linked
# with libprotobuf-c. Anything missing stops configure with the package that provides it:
# `cltrain export` is never silently absent. CLT_ONNX_PROTO names another onnx.proto.
find_program(CLT_PROTOC_C protoc-c)
if(NOT CLT_PROTOC_C)
  message(FATAL_ERROR "protoc-c not found (needed for cltrain export): "
                      "apt-get install protobuf-c-compiler")
endif()
pkg_check_modules(PROTOBUF_C QUIET IMPORTED_TARGET libprotobuf-c)
if(NOT PROTOBUF_C_FOUND)
  message(FATAL_ERROR "libprotobuf-c not found (needed for cltrain export): "
                      "apt-get install libprotobuf-c-dev")
endif()
find_file(CLT_ONNX_PROTO onnx.proto PATHS /usr/lib/python3/dist-packages/onnx
          DOC "onnx.proto (proto2, package onnx) for the ONNX export" NO_DEFAULT_PATH)
if(NOT CLT_ONNX_PROTO OR NOT EXISTS "${CLT_ONNX_PROTO}")
  message(FATAL_ERROR "onnx.proto not found (needed for cltrain export): apt-get install "
                      "python3-onnx, or configure with -DCLT_ONNX_PROTO=/path/to/onnx.proto")
endif()
file(STRINGS ${CLT_ONNX_PROTO} CLT_ONNX_PROTO_SYNTAX REGEX "^syntax *= *\"proto2\"")
if(NOT CLT_ONNX_PROTO_SYNTAX)
  message(FATAL_ERROR "${CLT_ONNX_PROTO} is not proto2 (protoc-c and src/export expect "
                      "onnx.proto's proto2 form); use the file python3-onnx installs")
endif()

get_filename_component(CLT_ONNX_PROTO_DIR ${CLT_ONNX_PROTO} DIRECTORY)
set(CLT_ONNX_GEN_DIR ${CMAKE_BINARY_DIR}/generated/onnx)
file(MAKE_DIRECTORY ${CLT_ONNX_GEN_DIR})
add_custom_command(
  OUTPUT ${CLT_ONNX_GEN_DIR}/onnx.pb-c.c ${CLT_ONNX_GEN_DIR}/onnx.pb-c.h
  COMMAND ${CLT_PROTOC_C} --proto_path=${CLT_ONNX_PROTO_DIR} --c_out=${CLT_ONNX_GEN_DIR}
          ${CLT_ONNX_PROTO}
  DEPENDS ${CLT_ONNX_PROTO}
  COMMENT "Generating the ONNX protobuf-c code from ${CLT_ONNX_PROTO}"
  VERBATIM)
add_library(clt_onnx_proto STATIC ${CLT_ONNX_GEN_DIR}/onnx.pb-c.c)
set_target_properties(clt_onnx_proto PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)
target_include_directories(clt_onnx_proto PUBLIC ${CLT_ONNX_GEN_DIR})
target_link_libraries(clt_onnx_proto PUBLIC PkgConfig::PROTOBUF_C)
