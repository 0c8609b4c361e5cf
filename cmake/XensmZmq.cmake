# ZeroMQ, czmq and libsodium for xensm programs.
#
#   xensm_link_zmq(<target> [HOST] [STATIC])   (see below)
#
# Links <target> with czmq, libzmq and libsodium. Dynamically by default;
# statically into host-side programs when XENSM_STATIC_ZMQ is ON (a
# XenServer / XCP-ng dom0 has no ZeroMQ), or when STATIC is given (the probe
# that keeps this machinery tested in every build).
#
# Static linking follows `pkg-config --static libczmq` in its order: every
# library of that closure that has a static archive (libczmq.a, libzmq.a,
# libsodium.a and, with Debian's libzmq.a, libpgm.a, libnorm.a, libprotokit.a,
# libbsd.a, libmd.a, libuuid.a) is linked from its archive inside one
# --start-group/--end-group, followed by libstdc++.a (libzmq is C++ and dom0's
# libstdc++ is older than the build host's) and -static-libgcc. Libraries
# without an archive, and the ones every dom0 has (glibc's, libxml2's stack),
# stay shared and are kept only if something uses them (--as-needed). With
# Debian 12's libzmq.a that leaves libgssapi_krb5.so.2 (libzmq's GSSAPI
# mechanism) and libsystemd.so.0 (czmq's socket activation); both are part of
# a dom0 base system (krb5-libs, systemd-libs).
#
# With XENSM_STATIC_ZMQ, host programs also take inih and jansson from their
# archives (see below), so that they need nothing a dom0 lacks.
#
# XENSM_ZMQ_STATIC_AVAILABLE is TRUE when the archives were found.

# Libraries a dom0 base system provides: kept shared even if an archive exists.
set(_xs_zmq_keep_shared c m rt dl pthread xml2 icui18n icuuc icudata z lzma
    curl gssapi_krb5 krb5 k5crypto com_err krb5support systemd
    nss3 nssutil3 smime3 ssl3 plds4 plc4 nspr4)

function(_xensm_zmq_static_setup)
  if(TARGET xensm-zmq-static)
    return()
  endif()
  set(search_dirs ${CZMQ_STATIC_LIBRARY_DIRS})
  set(archives "")
  set(shared "")
  set(flags "")
  set(missing "")
  foreach(tok IN LISTS CZMQ_STATIC_LDFLAGS)
    if(tok MATCHES "^-L(.+)$")
      list(APPEND search_dirs "${CMAKE_MATCH_1}")
    elseif(tok MATCHES "^-l(.+)$")
      set(name "${CMAKE_MATCH_1}")
      if(name STREQUAL "stdc++")
        continue()                       # added last, see below
      endif()
      if(name IN_LIST _xs_zmq_keep_shared)
        list(APPEND shared "${name}")
        continue()
      endif()
      string(MAKE_C_IDENTIFIER "XENSM_STATIC_LIB_${name}" var)
      find_library(${var} NAMES lib${name}.a HINTS ${search_dirs})
      if(${var})
        list(APPEND archives "${${var}}")
      else()
        list(APPEND shared "${name}")
        list(APPEND missing "${name}")
      endif()
    elseif(tok MATCHES "^lib(.+)\\.a$")  # libnorm.pc names libprotokit.a bare
      string(MAKE_C_IDENTIFIER "XENSM_STATIC_LIB_${CMAKE_MATCH_1}" var)
      find_library(${var} NAMES "${tok}" HINTS ${search_dirs})
      if(${var})
        list(APPEND archives "${${var}}")
      else()
        list(APPEND missing "${tok}")
      endif()
    elseif(NOT tok STREQUAL "")
      list(APPEND flags "${tok}")
    endif()
  endforeach()

  foreach(core czmq zmq sodium)
    set(found FALSE)
    foreach(a IN LISTS archives)
      get_filename_component(n "${a}" NAME)
      if(n STREQUAL "lib${core}.a")
        set(found TRUE)
      endif()
    endforeach()
    if(NOT found)
      set(XENSM_ZMQ_STATIC_AVAILABLE FALSE PARENT_SCOPE)
      set(XENSM_ZMQ_STATIC_MISSING "lib${core}.a" PARENT_SCOPE)
      return()
    endif()
  endforeach()

  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libstdc++.a
                  OUTPUT_VARIABLE stdcxx OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(IS_ABSOLUTE "${stdcxx}" AND EXISTS "${stdcxx}")
    list(APPEND archives "${stdcxx}")
  else()
    message(WARNING "xensm: no libstdc++.a (install libstdc++-static / libstdc++-dev): "
                    "statically linked programs will need the host's libstdc++")
    list(APPEND shared "stdc++")
  endif()
  list(REMOVE_DUPLICATES archives)
  # A shared library is looked up once; keep its last position (pkg-config order).
  list(REVERSE shared)
  list(REMOVE_DUPLICATES shared)
  list(REVERSE shared)
  list(TRANSFORM shared PREPEND "-l")
  list(REMOVE_DUPLICATES flags)

  add_library(xensm-zmq-static INTERFACE)
  target_include_directories(xensm-zmq-static SYSTEM INTERFACE ${CZMQ_INCLUDE_DIRS})
  target_compile_options(xensm-zmq-static INTERFACE ${CZMQ_CFLAGS_OTHER})
  target_link_directories(xensm-zmq-static INTERFACE ${search_dirs})
  target_link_libraries(xensm-zmq-static INTERFACE
    "-Wl,--start-group" ${archives} "-Wl,--end-group" ${shared} ${flags})
  target_link_options(xensm-zmq-static INTERFACE -static-libgcc "LINKER:--as-needed")
  list(JOIN archives " " a_txt)
  list(JOIN shared " " s_txt)
  message(STATUS "xensm: static ZeroMQ links ${a_txt}; shared if used: ${s_txt}")
  if(missing)
    message(STATUS "xensm: no static archive for: ${missing} (linked shared if used)")
  endif()
  set(XENSM_ZMQ_STATIC_AVAILABLE TRUE PARENT_SCOPE)
endfunction()

_xensm_zmq_static_setup()
if(XENSM_STATIC_ZMQ AND NOT XENSM_ZMQ_STATIC_AVAILABLE)
  message(FATAL_ERROR "XENSM_STATIC_ZMQ=ON but ${XENSM_ZMQ_STATIC_MISSING} was not found "
                      "(Debian: libzmq3-dev, libczmq-dev, libsodium-dev ship the archives)")
endif()

# xensm-zmq: what every library and program that uses ZeroMQ links. Whether
# it is static or shared is decided by the program being linked (its
# XENSM_STATIC_ZMQ property, set by xensm_link_zmq(... HOST/STATIC)), also
# when it comes in through a static library such as libxensm-host.
add_library(xensm-zmq INTERFACE)
set(_xs_static "$<BOOL:$<TARGET_PROPERTY:XENSM_STATIC_ZMQ>>")
if(TARGET xensm-zmq-static)
  target_link_libraries(xensm-zmq INTERFACE "$<${_xs_static}:xensm-zmq-static>")
endif()
target_link_libraries(xensm-zmq INTERFACE
  "$<$<NOT:${_xs_static}>:PkgConfig::CZMQ>"
  "$<$<NOT:${_xs_static}>:PkgConfig::ZMQ>"
  "$<$<NOT:${_xs_static}>:PkgConfig::SODIUM>")
# Headers for libraries, whose own XENSM_STATIC_ZMQ is never set.
target_include_directories(xensm-zmq SYSTEM INTERFACE ${CZMQ_INCLUDE_DIRS} ${ZMQ_INCLUDE_DIRS}
                           ${SODIUM_INCLUDE_DIRS})

# A dom0 has no libinih and may lack libjansson either: a program with
# XENSM_STATIC_ZMQ set takes them from their archives too. PkgConfig::INIH and
# PkgConfig::JANSSON, wherever a library links them, then name the archive for
# such a program and the shared library for every other one. (Only for
# programs: Debian's libjansson.a is not PIC, so a shared object could not
# take it.)
foreach(dep INIH JANSSON)
  string(TOLOWER "${dep}" lib)
  find_library(XENSM_STATIC_LIB_${lib} NAMES lib${lib}.a HINTS ${${dep}_LIBRARY_DIRS})
  if(XENSM_STATIC_LIB_${lib} AND TARGET PkgConfig::${dep})
    get_target_property(shared PkgConfig::${dep} INTERFACE_LINK_LIBRARIES)
    set_property(TARGET PkgConfig::${dep} PROPERTY INTERFACE_LINK_LIBRARIES
      "$<$<BOOL:$<TARGET_PROPERTY:XENSM_STATIC_ZMQ>>:${XENSM_STATIC_LIB_${lib}}>"
      "$<$<NOT:$<BOOL:$<TARGET_PROPERTY:XENSM_STATIC_ZMQ>>>:${shared}>")
  endif()
endforeach()

# xensm_static_host_programs(<dir>...)
#   With XENSM_STATIC_ZMQ ON, marks every program defined in the given source
#   directories as host-side (static ZeroMQ, czmq, libsodium, inih, jansson),
#   whether or not it links ZeroMQ. Called from packaging/ for hostagent/ and
#   xe-plugin/ once they are configured.
function(xensm_static_host_programs)
  if(NOT XENSM_STATIC_ZMQ)
    return()
  endif()
  foreach(dir IN LISTS ARGN)
    get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
    foreach(t IN LISTS targets)
      get_target_property(type ${t} TYPE)
      if(type STREQUAL "EXECUTABLE")
        set_target_properties(${t} PROPERTIES XENSM_STATIC_ZMQ ON)
        target_link_options(${t} PRIVATE -static-libgcc "LINKER:--as-needed")
      endif()
    endforeach()
  endforeach()
endfunction()

# xensm_link_zmq(<target> [HOST] [STATIC])
#   Links <target> with xensm-zmq (PUBLIC for a library, PRIVATE for a
#   program). A host-side program -- one defined under hostagent/ or
#   xe-plugin/ (xensm-agentd), or marked HOST -- gets ZeroMQ, czmq and
#   libsodium statically when XENSM_STATIC_ZMQ is ON; every other program
#   (xensm-catalogd, xensm-manage, tests) links them dynamically. STATIC makes
#   them static whatever the option says. Libraries may take ZeroMQ through
#   xensm-zmq or headers only; a PkgConfig::CZMQ in a library a static
#   program links is harmless (the archives come first, --as-needed drops
#   the shared library) but better avoided.
function(xensm_link_zmq target)
  cmake_parse_arguments(Z "HOST;STATIC" "" "" ${ARGN})
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "EXECUTABLE")
    get_target_property(dir ${target} SOURCE_DIR)
    file(RELATIVE_PATH rel "${PROJECT_SOURCE_DIR}" "${dir}")
    if(rel MATCHES "^(hostagent|xe-plugin)(/|$)")
      set(Z_HOST TRUE)
    endif()
    if(Z_STATIC OR (Z_HOST AND XENSM_STATIC_ZMQ))
      if(NOT TARGET xensm-zmq-static)
        message(FATAL_ERROR "xensm_link_zmq(${target}): ${XENSM_ZMQ_STATIC_MISSING} not found")
      endif()
      set_target_properties(${target} PROPERTIES XENSM_STATIC_ZMQ ON)
    endif()
    target_link_libraries(${target} PRIVATE xensm-zmq)
  elseif(type STREQUAL "INTERFACE_LIBRARY")
    target_link_libraries(${target} INTERFACE xensm-zmq)
  else()
    target_link_libraries(${target} PUBLIC xensm-zmq)
  endif()
endfunction()
