/*
 * SYNTAX-CHECK STUB - NOT ZEPHYR. include/zephyr/net/net_mgmt.h: the event callback API the
 * outbox worker uses (with CONFIG_NET_MGMT_EVENT; without it upstream's calls are empty macros).
 * The event value is uint64_t from Zephyr 4.2 (release notes 4.2, "Stable API changes"),
 * uint32_t before: chosen by the version stub, as the release does.
 */
#ifndef STUB_ZEPHYR_NET_NET_MGMT_H
#define STUB_ZEPHYR_NET_NET_MGMT_H
#include <stddef.h>
#include <stdint.h>
#include <zephyr/version.h>
struct net_if;
#if ZEPHYR_VERSION_CODE >= ZEPHYR_VERSION(4, 2, 0)
typedef uint64_t stub_net_mgmt_event_t;
#else
typedef uint32_t stub_net_mgmt_event_t;
#endif
struct net_mgmt_event_callback;
typedef void (*net_mgmt_event_handler_t)(struct net_mgmt_event_callback *cb,
					 stub_net_mgmt_event_t mgmt_event, struct net_if *iface);
struct net_mgmt_event_callback {
	void *node;
	net_mgmt_event_handler_t handler;
	stub_net_mgmt_event_t event_mask;
};
static inline void net_mgmt_init_event_callback(struct net_mgmt_event_callback *cb,
						net_mgmt_event_handler_t handler,
						stub_net_mgmt_event_t mgmt_event_mask)
{
	cb->handler = handler;
	cb->event_mask = mgmt_event_mask;
}
void net_mgmt_add_event_callback(struct net_mgmt_event_callback *cb);
void net_mgmt_del_event_callback(struct net_mgmt_event_callback *cb);
#endif
