# Static executables: the host package (XENSM_STATIC_HOST) and the plugin.
#
#   xensm_host_program(<target>)     a program of the host package
#   xensm_static_program(<target>)   link <target> as a static executable
#
# A XenServer / XCP-ng dom0 has a CentOS 7 userland (glibc 2.17, no ZeroMQ,
# czmq, libsodium, inih or jansson), so with XENSM_STATIC_HOST every program
# of the host package is a static executable: no INTERP, no NEEDED.
#
# How: a static program gets the target property XENSM_STATIC. Each
# dependency it can reach (PkgConfig::LIBXML2, JANSSON, INIH, CURL, CZMQ, ZMQ,
# SODIUM) names, through a generator expression on that property, either its
# shared library (every other program) or xensm-static-<dep>: the archives
# of its `pkg-config --static` closure. So the libraries (xensm-common,
# xensm-host, ...) are built once and linked both ways, and no program
# collects sources.
#
# Debian's archives cover everything but three pieces:
#   - libcurl: Debian's libcurl.a needs GSS-API, LDAP, libpsl, nghttp2, ...
#     which have no archive. XENSM_STATIC_HOST builds a minimal libcurl
#     (HTTP(S) and unix sockets, TLS through Debian's static OpenSSL) from
#     third_party/curl (Debian's curl 7.88.1 source with its security
#     patches, the same release as the headers the code compiles against),
#     as an ExternalProject: no network, its own warning flags.
#   - libzmq's GSS-API mechanism and czmq's systemd socket activation: no
#     libgssapi_krb5.a, no libsystemd.a. packaging/static/xs_static_stubs.c
#     answers for them: GSS-API fails (xensm uses CURVE only, never sets
#     ZMQ_GSSAPI_*), sd_listen_fds passes no socket (nothing of xensm is
#     socket-activated).
#   - glibc's NSS: since glibc 2.34 the `files` and `dns` services are in
#     libc itself, also in libc.a, so a static program resolves names from
#     /etc/hosts and DNS without loading anything (checked in an empty root);
#     only other services named in /etc/nsswitch.conf (ldap, sss, ...) would
#     need a dlopen() of the build glibc's modules, and are skipped.

option(XENSM_STATIC_HOST
  "Link every host-package program (xensm-agentd, xensm-xapi, the xensm plugin) as a static executable, with a minimal libcurl built from third_party/curl"
  OFF)

# Where a static link is possible at all: not with the sanitizers or libFuzzer.
set(XENSM_STATIC_POSSIBLE ON)
if(CMAKE_BUILD_TYPE STREQUAL "Asan" OR XENSM_FUZZ)
  set(XENSM_STATIC_POSSIBLE OFF)
endif()
if(XENSM_STATIC_HOST AND NOT XENSM_STATIC_POSSIBLE)
  message(FATAL_ERROR "XENSM_STATIC_HOST cannot be combined with the Asan build type or XENSM_FUZZ")
endif()

# Names of a `pkg-config --static` closure that are not looked up as archives:
# glibc's own (in libc.a / libm.a with -static), the ones the stubs replace,
# and NSS, which czmq's .pc names although libczmq.a uses none of it.
set(_xs_static_glibc c m rt dl pthread resolv)
set(_xs_static_stubbed gssapi_krb5 krb5 k5crypto com_err krb5support systemd)
set(_xs_static_unused nss3 nssutil3 smime3 ssl3 plds4 plc4 nspr4)

execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libstdc++.a
                OUTPUT_VARIABLE _xs_stdcxx OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT IS_ABSOLUTE "${_xs_stdcxx}" OR NOT EXISTS "${_xs_stdcxx}")
  set(_xs_stdcxx "")
endif()

# xensm_static_archives(<out> <missing-out> <ldflags...>)
#   The archives of a `pkg-config --static` link line (<PREFIX>_STATIC_LDFLAGS),
#   in its order, libstdc++.a last when the line names stdc++ or ICU (C++).
#   <missing-out> lists the libraries that have no archive.
function(xensm_static_archives out missing_out)
  set(dirs "")
  set(archives "")
  set(missing "")
  set(cxx FALSE)
  foreach(tok IN LISTS ARGN)
    set(name "")
    if(tok MATCHES "^-L(.+)$")
      list(APPEND dirs "${CMAKE_MATCH_1}")
    elseif(tok MATCHES "^-l(.+)$")
      set(name "${CMAKE_MATCH_1}")
    elseif(tok MATCHES "^lib(.+)\\.a$")       # libnorm.pc names libprotokit.a bare
      set(name "${CMAKE_MATCH_1}")
    endif()
    if(name STREQUAL "" OR name IN_LIST _xs_static_glibc OR name IN_LIST _xs_static_stubbed
       OR name IN_LIST _xs_static_unused)
      continue()
    endif()
    if(name STREQUAL "stdc++" OR name MATCHES "^icu")
      set(cxx TRUE)
      if(name STREQUAL "stdc++")
        continue()
      endif()
    endif()
    string(MAKE_C_IDENTIFIER "XENSM_STATIC_LIB_${name}" var)
    find_library(${var} NAMES lib${name}.a HINTS ${dirs})
    if(${var})
      list(APPEND archives "${${var}}")
    else()
      list(APPEND missing "${name}")
    endif()
  endforeach()
  if(cxx)
    if(_xs_stdcxx)
      list(APPEND archives "${_xs_stdcxx}")
    else()
      list(APPEND missing "stdc++")
    endif()
  endif()
  list(REMOVE_DUPLICATES archives)
  set(${out} "${archives}" PARENT_SCOPE)
  set(${missing_out} "${missing}" PARENT_SCOPE)
endfunction()

# _xensm_static_dep(<PREFIX> [ARCHIVES <paths or targets...>])
#   Defines xensm-static-<prefix> (the archives of PkgConfig::<PREFIX>'s
#   static closure, or the given ones) and makes PkgConfig::<PREFIX> name it
#   for programs with XENSM_STATIC. Records a dependency without archives in
#   XENSM_STATIC_MISSING.
function(_xensm_static_dep dep)
  cmake_parse_arguments(D "" "" "ARCHIVES" ${ARGN})
  string(TOLOWER "${dep}" lib)
  if(NOT TARGET PkgConfig::${dep})
    return()
  endif()
  if(D_ARCHIVES)
    set(archives ${D_ARCHIVES})
  else()
    xensm_static_archives(archives missing ${${dep}_STATIC_LDFLAGS})
    if(missing)
      set_property(GLOBAL APPEND PROPERTY XENSM_STATIC_MISSING "${dep}: ${missing}")
      return()
    endif()
  endif()
  add_library(xensm-static-${lib} INTERFACE)
  target_link_libraries(xensm-static-${lib} INTERFACE ${archives} m)
  get_target_property(shared PkgConfig::${dep} INTERFACE_LINK_LIBRARIES)
  set(static "$<BOOL:$<TARGET_PROPERTY:XENSM_STATIC>>")
  set_property(TARGET PkgConfig::${dep} PROPERTY INTERFACE_LINK_LIBRARIES
    "$<${static}:xensm-static-${lib}>" "$<$<NOT:${static}>:${shared}>")
endfunction()

if(XENSM_STATIC_POSSIBLE)
  # What czmq and libzmq need from GSS-API and libsystemd (see above).
  add_library(xensm-static-stubs STATIC ${PROJECT_SOURCE_DIR}/packaging/static/xs_static_stubs.c)

  _xensm_static_dep(LIBXML2)
  _xensm_static_dep(JANSSON)
  _xensm_static_dep(INIH)
  _xensm_static_dep(SODIUM)
  foreach(dep ZMQ CZMQ)
    xensm_static_archives(archives missing ${${dep}_STATIC_LDFLAGS})
    if(missing)
      set_property(GLOBAL APPEND PROPERTY XENSM_STATIC_MISSING "${dep}: ${missing}")
    else()
      # The stubs come after the archives that need them, libstdc++.a last.
      list(REMOVE_ITEM archives "${_xs_stdcxx}")
      _xensm_static_dep(${dep} ARCHIVES ${archives} xensm-static-stubs ${_xs_stdcxx})
    endif()
  endforeach()
endif()

# The minimal libcurl, built only for XENSM_STATIC_HOST.
set(XENSM_CURL_SOURCE_DIR "${PROJECT_SOURCE_DIR}/third_party/curl")
if(XENSM_STATIC_HOST)
  find_library(XENSM_STATIC_LIB_ssl NAMES libssl.a)
  find_library(XENSM_STATIC_LIB_crypto NAMES libcrypto.a)
  if(NOT XENSM_STATIC_LIB_ssl OR NOT XENSM_STATIC_LIB_crypto)
    message(FATAL_ERROR "XENSM_STATIC_HOST needs OpenSSL's libssl.a and libcrypto.a (Debian: libssl-dev)")
  endif()
  include(ExternalProject)
  set(_xs_curl_bin "${PROJECT_BINARY_DIR}/third_party/curl")
  # Release, static, HTTP(S) only, unix sockets, OpenSSL; nothing else
  # (no zlib, IDN, PSL, SSH, GSS-API, LDAP, nghttp2). CA bundle: the path a
  # dom0 (CentOS 7) keeps it at; OpenSSL's config file is not read (the build
  # host's OPENSSLDIR means nothing on a dom0).
  ExternalProject_Add(xensm-curl-build
    SOURCE_DIR ${XENSM_CURL_SOURCE_DIR}
    BINARY_DIR ${_xs_curl_bin}
    DOWNLOAD_COMMAND "" UPDATE_COMMAND "" INSTALL_COMMAND ""
    CMAKE_ARGS
      -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
      -DCMAKE_BUILD_TYPE=Release
      -DCMAKE_POSITION_INDEPENDENT_CODE=ON
      -DBUILD_SHARED_LIBS=OFF -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF
      -DCURL_DISABLE_TESTS=ON -DENABLE_MANUAL=OFF -DPICKY_COMPILER=OFF
      -DCURL_ENABLE_EXPORT_TARGET=OFF
      -DHTTP_ONLY=ON -DENABLE_UNIX_SOCKETS=ON -DENABLE_IPV6=ON
      -DCURL_USE_OPENSSL=ON -DOPENSSL_USE_STATIC_LIBS=ON
      -DCURL_DISABLE_OPENSSL_AUTO_LOAD_CONFIG=ON
      -DCURL_CA_BUNDLE=/etc/pki/tls/certs/ca-bundle.crt -DCURL_CA_PATH=none
      -DCURL_ZLIB=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DUSE_LIBIDN2=OFF
      -DCURL_USE_LIBPSL=OFF -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF
      -DCURL_USE_GSSAPI=OFF -DUSE_NGHTTP2=OFF
      -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_LDAPS=ON
    BUILD_BYPRODUCTS ${_xs_curl_bin}/lib/libcurl.a
    LOG_CONFIGURE ON LOG_BUILD ON LOG_OUTPUT_ON_FAILURE ON)
  add_library(xensm-curl-static STATIC IMPORTED GLOBAL)
  set_target_properties(xensm-curl-static PROPERTIES IMPORTED_LOCATION ${_xs_curl_bin}/lib/libcurl.a)
  add_dependencies(xensm-curl-static xensm-curl-build)
  _xensm_static_dep(CURL ARCHIVES xensm-curl-static ${XENSM_STATIC_LIB_ssl}
                    ${XENSM_STATIC_LIB_crypto})
endif()

get_property(XENSM_STATIC_MISSING GLOBAL PROPERTY XENSM_STATIC_MISSING)

# xensm_static_program(<target>)
#   Links the program <target> as a static executable (see above). Fails at
#   configure time when that cannot be done.
function(xensm_static_program target)
  if(NOT XENSM_STATIC_POSSIBLE)
    message(FATAL_ERROR "xensm_static_program(${target}): no static link in Asan or fuzz builds")
  endif()
  if(XENSM_STATIC_MISSING)
    message(FATAL_ERROR "xensm_static_program(${target}): no static archive for ${XENSM_STATIC_MISSING}")
  endif()
  set_target_properties(${target} PROPERTIES XENSM_STATIC ON)
  target_link_options(${target} PRIVATE -static)
endfunction()

# xensm_host_program(<target>)
#   Declares <target> a program of the host package (xensm-hostagent RPM):
#   installed in the install component `host`, and static with
#   XENSM_STATIC_HOST. Give the install destination as DESTINATION.
function(xensm_host_program target)
  cmake_parse_arguments(H "" "DESTINATION" "PERMISSIONS" ${ARGN})
  set_property(GLOBAL APPEND PROPERTY XENSM_HOST_PROGRAMS ${target})
  if(XENSM_STATIC_HOST)
    xensm_static_program(${target})
  endif()
  if(H_PERMISSIONS)
    set(perms PERMISSIONS ${H_PERMISSIONS})
  endif()
  install(TARGETS ${target} RUNTIME DESTINATION ${H_DESTINATION} ${perms} COMPONENT host)
endfunction()
