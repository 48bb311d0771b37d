# SPDX-License-Identifier: Apache-2.0
#
# Included by zsmtp's samples and twister suites before find_package(Zephyr): the shared base
# configuration (prj.conf and boards/<board>.conf of the repository root) goes first, then the
# application's own prj.conf; and the module itself is added, in case the tree is not a project
# of the west workspace (a duplicate entry of the same module is harmless: zephyr_module.py keys
# modules by name).

get_filename_component(ZSMTP_ROOT ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
if(DEFINED BOARD)
  string(REPLACE "/" "_" zsmtp_board_conf "${BOARD}")
else()
  string(REPLACE "/" "_" zsmtp_board_conf "$ENV{BOARD}")
endif()
set(CONF_FILE ${ZSMTP_ROOT}/prj.conf ${CMAKE_CURRENT_SOURCE_DIR}/prj.conf)
if(EXISTS ${ZSMTP_ROOT}/boards/${zsmtp_board_conf}.conf)
  list(APPEND CONF_FILE ${ZSMTP_ROOT}/boards/${zsmtp_board_conf}.conf)
endif()
list(APPEND ZEPHYR_EXTRA_MODULES ${ZSMTP_ROOT})
