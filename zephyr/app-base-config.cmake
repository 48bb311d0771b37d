# SPDX-License-Identifier: Apache-2.0
#
# Included by zsmtp's samples and twister suites before find_package(Zephyr): the shared base
# configuration (prj.conf and boards/<board>.conf of the repository root) goes first, then the
# application's own prj.conf; and the module itself is added, in case the tree is not a project
# of the west workspace (a duplicate entry of the same module is harmless: zephyr_module.py keys
# modules by name).

get_filename_component(ZSMTP_ROOT ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
if(DEFINED BOARD)
  set(zsmtp_board "${BOARD}")
else()
  set(zsmtp_board "$ENV{BOARD}")
endif()
# The qualified board (nucleo_f767zi/stm32f767xx -> nucleo_f767zi_stm32f767xx.conf) first, else
# the board's bare name (nucleo_f767zi.conf): a qualified -b must not silently lose the board's
# base configuration (FPU, DHCP, DNS).
string(REPLACE "/" "_" zsmtp_board_conf "${zsmtp_board}")
string(REGEX REPLACE "/.*$" "" zsmtp_board_name_only "${zsmtp_board}")
set(CONF_FILE ${ZSMTP_ROOT}/prj.conf ${CMAKE_CURRENT_SOURCE_DIR}/prj.conf)
if(EXISTS ${ZSMTP_ROOT}/boards/${zsmtp_board_conf}.conf)
  list(APPEND CONF_FILE ${ZSMTP_ROOT}/boards/${zsmtp_board_conf}.conf)
elseif(EXISTS ${ZSMTP_ROOT}/boards/${zsmtp_board_name_only}.conf)
  list(APPEND CONF_FILE ${ZSMTP_ROOT}/boards/${zsmtp_board_name_only}.conf)
endif()
list(APPEND ZEPHYR_EXTRA_MODULES ${ZSMTP_ROOT})
