# plxd: VDIs served as vhost-user-blk devices (included by cow/CMakeLists.txt).
add_library(vhost_blk STATIC
  file_block_device.cc
  guest_memory.cc
  vhost_blk_server.cc
  vhost_user.cc
  virtio_blk.cc
  virtqueue.cc
)
target_link_libraries(vhost_blk PUBLIC ssiuml_common)

add_executable(plxd plxd_main.cc vdi_block_device.cc)
target_link_libraries(plxd PRIVATE vhost_blk plx_locks Boost::program_options)
install(TARGETS plxd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# plxd, plx and a real lockserver: VDI ownership between processes.
add_test(NAME plxd:locks COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/plx_locks_test.sh)
set_tests_properties(plxd:locks PROPERTIES ENVIRONMENT "SSI_BIN=${CMAKE_BINARY_DIR}/bin" TIMEOUT 120)

ssiuml_unit_tests(plxd_tests vhost_blk_server_test.cc)
target_link_libraries(plxd_tests PRIVATE vhost_blk)
ssiuml_fuzz_target(virtqueue vhost_blk)

# Disks served from threads pinned to CPUs, and bad CPUs refused.
add_test(NAME plxd:cpu COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/plxd_cpu_test.sh)
set_tests_properties(plxd:cpu PROPERTIES ENVIRONMENT "SSI_BIN=${CMAKE_BINARY_DIR}/bin" TIMEOUT 60)

# Bad input on the control socket: refused in one reply, or the connection ends.
add_test(NAME plxd:control COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/plxd_control_test.sh)
set_tests_properties(plxd:control PROPERTIES ENVIRONMENT "SSI_BIN=${CMAKE_BINARY_DIR}/bin" TIMEOUT 60)
