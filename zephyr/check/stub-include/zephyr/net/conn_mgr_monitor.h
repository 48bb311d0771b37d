/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. include/zephyr/net/conn_mgr_monitor.h (declared with
 * CONFIG_NET_CONNECTION_MANAGER; upstream an empty macro without it).
 */
#ifndef STUB_ZEPHYR_NET_CONN_MGR_MONITOR_H
#define STUB_ZEPHYR_NET_CONN_MGR_MONITOR_H
void conn_mgr_mon_resend_status(void);
#endif
