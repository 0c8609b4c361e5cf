# ZeroMQ, czmq and libsodium for xensm programs and libraries.
#
#   xensm_link_zmq(<target>)
#
# Links <target> with xensm-zmq: PRIVATE for a program, PUBLIC for a library
# (INTERFACE for an interface library). Shared for every program, static for
# a program made static with xensm_static_program() (cmake/XensmStatic.cmake:
# PkgConfig::CZMQ, ZMQ and SODIUM then name their archives, libstdc++.a and
# the GSS-API / systemd stubs). Which programs are the host package's, and so
# static with XENSM_STATIC_HOST, is said where they are defined, with
# xensm_host_program(); nothing here guesses it from a directory.

add_library(xensm-zmq INTERFACE)
target_link_libraries(xensm-zmq INTERFACE PkgConfig::CZMQ PkgConfig::ZMQ PkgConfig::SODIUM)

function(xensm_link_zmq target)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "EXECUTABLE")
    target_link_libraries(${target} PRIVATE xensm-zmq)
  elseif(type STREQUAL "INTERFACE_LIBRARY")
    target_link_libraries(${target} INTERFACE xensm-zmq)
  else()
    target_link_libraries(${target} PUBLIC xensm-zmq)
  endif()
endfunction()
