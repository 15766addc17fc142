# Included by tests/CMakeLists.txt: for every tests/fuzz/fuzz_NAME.c a program fuzz_replay_NAME
# (the harness with replay_main.c) and the test fuzz_replay_NAME, which runs the harness on
# every file of tests/fuzz/corpus/NAME and tests/fuzz/regressions/NAME. New harnesses are
# picked up by the glob: no change here.
set(CLT_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)
file(GLOB CLT_FUZZ_HARNESSES CONFIGURE_DEPENDS ${CLT_FUZZ_DIR}/fuzz_*.c)
foreach(harness IN LISTS CLT_FUZZ_HARNESSES)
  get_filename_component(target ${harness} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" name ${target})
  add_executable(fuzz_replay_${name} ${harness} ${CLT_FUZZ_DIR}/replay_main.c)
  target_link_libraries(fuzz_replay_${name} PRIVATE clt_testutil)
  target_include_directories(fuzz_replay_${name} PRIVATE ${CLT_FUZZ_DIR})
  # The allocation limit of replay_main.c: the library's malloc, calloc and realloc calls.
  target_link_options(fuzz_replay_${name} PRIVATE -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc)
  add_test(NAME fuzz_replay_${name}
           COMMAND fuzz_replay_${name} ${name} ${CLT_FUZZ_DIR}/corpus/${name}
                   ${CLT_FUZZ_DIR}/regressions/${name})
  set_tests_properties(fuzz_replay_${name} PROPERTIES TIMEOUT 300
                       ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=STDOUT")
endforeach()
