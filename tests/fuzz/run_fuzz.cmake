# Runs one libFuzzer target for a bounded time on a fresh copy of its seed
# corpus. Called by the fuzz.<name> ctest tests (see CMakeLists.txt):
#   cmake -DTARGET=... -DCORPUS=... -DWORK=... -DARTIFACTS=... [-DDICT=...] -P run_fuzz.cmake
foreach(var TARGET CORPUS WORK ARTIFACTS)
  if(NOT ${var})
    message(FATAL_ERROR "run_fuzz.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT IS_DIRECTORY "${CORPUS}")
  message(FATAL_ERROR "run_fuzz.cmake: seed corpus ${CORPUS} is missing")
endif()

set(seconds 60)
if(DEFINED ENV{XENSM_FUZZ_SECONDS} AND NOT "$ENV{XENSM_FUZZ_SECONDS}" STREQUAL "")
  set(seconds "$ENV{XENSM_FUZZ_SECONDS}")
endif()
if(NOT seconds MATCHES "^[0-9]+$" OR seconds EQUAL 0)
  message(FATAL_ERROR "run_fuzz.cmake: XENSM_FUZZ_SECONDS must be a positive number, not '${seconds}'")
endif()

# Fuzz a copy: libFuzzer adds new inputs to its first corpus directory.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}" "${ARTIFACTS}")
file(GLOB seeds "${CORPUS}/*")
if(NOT seeds)
  message(FATAL_ERROR "run_fuzz.cmake: seed corpus ${CORPUS} is empty")
endif()
file(COPY ${seeds} DESTINATION "${WORK}")

set(args -max_total_time=${seconds} -timeout=25 -rss_limit_mb=2048
         -print_final_stats=1 -artifact_prefix=${ARTIFACTS}/)
if(DICT)
  list(APPEND args -dict=${DICT})
endif()
message(STATUS "fuzzing ${TARGET} for ${seconds} s on a copy of ${CORPUS}")
execute_process(COMMAND "${TARGET}" ${args} "${WORK}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(GLOB crashes "${ARTIFACTS}/*")
  message(FATAL_ERROR "${TARGET} failed (${rc}); reproducers: ${crashes}")
endif()
