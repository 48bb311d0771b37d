/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. include/zephyr/net/net_event.h: the L4 events of the
 * connection manager (upstream: the L4 event base, layer code 0x114, with commands 1 and 2; the
 * stub's values only need to differ).
 */
#ifndef STUB_ZEPHYR_NET_NET_EVENT_H
#define STUB_ZEPHYR_NET_NET_EVENT_H
#include <zephyr/net/net_mgmt.h>
#define STUB_NET_EVENT_L4_BASE ((stub_net_mgmt_event_t)0xF1140000U)
#define NET_EVENT_L4_CONNECTED (STUB_NET_EVENT_L4_BASE | 1U)
#define NET_EVENT_L4_DISCONNECTED (STUB_NET_EVENT_L4_BASE | 2U)
#endif
