# Catalog throughput and scale benchmarks (bench/run, section 3): the load
# client, the bench agents (real xs_agent, instant executor), the bare
# ZeroMQ relay baseline and the database filler. Included from
# bench/CMakeLists.txt; built with every tree so they keep compiling.

add_executable(xs-bench-load bench_load.c)
target_include_directories(xs-bench-load PRIVATE ${CZMQ_INCLUDE_DIRS} ${ZMQ_INCLUDE_DIRS})
target_link_libraries(xs-bench-load PRIVATE PkgConfig::JANSSON)
xensm_link_zmq(xs-bench-load)

add_executable(xs-bench-agents bench_agents.c)
target_link_libraries(xs-bench-agents PRIVATE xensm-agent xensm-common)
xensm_link_zmq(xs-bench-agents)

# Many light bench hosts (one DEALER + CURVE key each) in one thread: the
# 10,000-agent row.
add_executable(xs-bench-hosts bench_hosts.c)
target_include_directories(xs-bench-hosts PRIVATE ${CZMQ_INCLUDE_DIRS} ${ZMQ_INCLUDE_DIRS})
target_link_libraries(xs-bench-hosts PRIVATE xensm-proto xensm-common PkgConfig::JANSSON)
xensm_link_zmq(xs-bench-hosts)

add_executable(xs-bench-relay bench_relay.c)
target_include_directories(xs-bench-relay PRIVATE ${CZMQ_INCLUDE_DIRS} ${ZMQ_INCLUDE_DIRS})
target_link_libraries(xs-bench-relay PRIVATE xensm-proto xensm-common PkgConfig::JANSSON)
xensm_link_zmq(xs-bench-relay)

add_executable(xs-bench-fill bench_fill.c)
target_include_directories(xs-bench-fill PRIVATE ${CZMQ_INCLUDE_DIRS})
target_link_libraries(xs-bench-fill PRIVATE xensm-store)
xensm_link_zmq(xs-bench-fill)

add_executable(xs-bench-http bench_http.c)
target_link_libraries(xs-bench-http PRIVATE PkgConfig::CURL PkgConfig::JANSSON)

# A bare CURVE ROUTER and N idle DEALER peers: the libzmq memory per
# connected agent, without catalogd (the 10,000-agent row's baseline).
add_executable(xs-bench-zprobe bench_zprobe.c)
target_include_directories(xs-bench-zprobe PRIVATE ${CZMQ_INCLUDE_DIRS} ${ZMQ_INCLUDE_DIRS})
target_link_libraries(xs-bench-zprobe PRIVATE xensm-common)
xensm_link_zmq(xs-bench-zprobe)
