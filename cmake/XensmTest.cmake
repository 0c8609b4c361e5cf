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

# xensm_integration_test(<name> COMMAND <cmd...>)
#   An integration test that drives the real programs. The build tree's
#   program paths reach the test through the environment.
function(xensm_integration_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "COMMAND" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME integration.${name} COMMAND ${T_COMMAND})
  set_tests_properties(integration.${name} PROPERTIES LABELS integration TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "XENSM_BUILD_DIR=${PROJECT_BINARY_DIR};XENSM_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
