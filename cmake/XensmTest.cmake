# The Python interpreter the tests run under, resolved once at configure
# time: `python3` on PATH may be a wrapper (a pyenv shim costs about half a
# second of a core per start, and the suite starts Python hundreds of times).
if(NOT XENSM_PYTHON)
  execute_process(COMMAND python3 -c "import sys; print(sys.executable)"
                  OUTPUT_VARIABLE _xs_python OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE _xs_python_rc)
  if(NOT _xs_python_rc EQUAL 0 OR NOT EXISTS "${_xs_python}")
    message(FATAL_ERROR "xensm: the tests need python3 on PATH (scripts/deps installs it)")
  endif()
  set(XENSM_PYTHON "${_xs_python}" CACHE FILEPATH "The Python interpreter of the tests")
endif()

# xensm_unit_test(<class> LIBS <targets...>)
#   Builds tests/unit/test_<class>.c into test_<class> and registers it with ctest.
function(xensm_unit_test name)
  cmake_parse_arguments(T "" "" "LIBS" ${ARGN})
  add_executable(test_${name} ${CMAKE_CURRENT_SOURCE_DIR}/test_${name}.c)
  target_link_libraries(test_${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  target_include_directories(test_${name} PRIVATE ${PROJECT_SOURCE_DIR})
  add_test(NAME unit.${name} COMMAND test_${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit TIMEOUT 120)
endfunction()

# The programs integration tests start. Each reaches the test as
# XENSM_PROG_<NAME> (xensm-catalogd -> XENSM_PROG_XENSM_CATALOGD) holding
# $<TARGET_FILE:...>, so no test knows where the build puts a program.
set(XENSM_TEST_PROGRAMS xensm-catalogd xensm-manage xensm-agentd xensm xensm-xapi
    xs_rawsend itest_xenapi itest_api_host zmq_static_probe)

# The integration tests' usual seconds on 2 cores (a fresh CI run). ctest
# starts the costliest first when it has no timings of its own (a fresh
# clone), so a two-minute test does not start last and run alone. The ASan
# tree has its own: there the C is several times slower (admin_cli and
# catalogd, 8 s here, take 50) and scripts/test runs the API tests without
# the real clients (XENSM_TEST_CLIENTS=off).
if(CMAKE_BUILD_TYPE STREQUAL "Asan")
  set(XENSM_TEST_COSTS e2e=160 plugin=85 faults_d=57 orphans=55
      admin_cli=52 catalogd=48 ha=43 api_keystone=40 api_catalog=40 xapisim=27
      xenapi=17 api_clients=10 agentd=7)
else()
  set(XENSM_TEST_COSTS api_catalog=135 rpm=110 e2e.pg=110 e2e=80 api_keystone=45
      api_clients=45 plugin=36 orphans.pg=35 faults_d=35 install_layout=31 orphans=26
      ha=24 xapisim=22 xenapi=12 admin_cli=8 catalogd=7)
endif()

# xensm_integration_test(<name> COMMAND <cmd...> [TIMEOUT <s>])
#   An integration test that drives the real programs, given their paths in
#   the environment (above), and XENSM_BUILD_DIR / XENSM_SOURCE_DIR.
function(xensm_integration_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "COMMAND" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(env "XENSM_BUILD_DIR=${PROJECT_BINARY_DIR}" "XENSM_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
          "XENSM_STATIC_HOST=${XENSM_STATIC_HOST}")
  foreach(program IN LISTS XENSM_TEST_PROGRAMS)
    string(TOUPPER "${program}" var)
    string(MAKE_C_IDENTIFIER "XENSM_PROG_${var}" var)
    list(APPEND env "${var}=$<$<TARGET_EXISTS:${program}>:$<TARGET_FILE:${program}>>")
  endforeach()
  add_test(NAME integration.${name} COMMAND ${T_COMMAND})
  set_tests_properties(integration.${name} PROPERTIES LABELS integration TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "${env}")
  foreach(entry IN LISTS XENSM_TEST_COSTS)
    if(entry MATCHES "^${name}=([0-9]+)$")
      set_tests_properties(integration.${name} PROPERTIES COST ${CMAKE_MATCH_1})
    endif()
  endforeach()
endfunction()
