# SPDX-License-Identifier: Apache-2.0
#
# Included by zsmtp's samples and twister suites before find_package(Zephyr): the configuration
# files in the order Zephyr merges them (later values win): the repository's base prj.conf, its
# boards/<board>.conf, then the application's own prj.conf. Twister's extra_configs and
# extra_conf_files come after all of them (EXTRA_CONF_FILE). A CONF_FILE given to the build
# (-DCONF_FILE=...) is left alone. With several CONF_FILE entries Zephyr does not add an
# application's own boards/<board>.conf by itself (cmake/modules/configuration_files.cmake): the
# applications here have none. The module itself is added too, in case the tree is not a project
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
if(NOT DEFINED CONF_FILE AND NOT DEFINED CACHE{CONF_FILE} AND "$ENV{CONF_FILE}" STREQUAL "")
  set(CONF_FILE ${ZSMTP_ROOT}/prj.conf)
  if(EXISTS ${ZSMTP_ROOT}/boards/${zsmtp_board_conf}.conf)
    list(APPEND CONF_FILE ${ZSMTP_ROOT}/boards/${zsmtp_board_conf}.conf)
  elseif(EXISTS ${ZSMTP_ROOT}/boards/${zsmtp_board_name_only}.conf)
    list(APPEND CONF_FILE ${ZSMTP_ROOT}/boards/${zsmtp_board_name_only}.conf)
  endif()
  list(APPEND CONF_FILE ${CMAKE_CURRENT_SOURCE_DIR}/prj.conf)
endif()
list(APPEND ZEPHYR_EXTRA_MODULES ${ZSMTP_ROOT})
