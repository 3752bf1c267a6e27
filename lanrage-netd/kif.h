/*
 * kif: netd's kernel interface.  Each function performs one privileged
 * operation of proto/netd.h and nothing else: the caller has already
 * checked every argument against netd's policy (interface prefix, overlay
 * subnet, ports).  Everything returns 0 or -1 with errno, never exits and
 * logs only with log_debug.  Not thread-safe: one netlink socket is shared.
 *
 * All kernel objects live in the network namespace that was current when
 * kif_init() ran.
 */
#ifndef LR_NETD_KIF_H
#define LR_NETD_KIF_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/addr.h"
#include "../proto/netd.h"

/*
 * Routes that kif installs carry this rtnetlink protocol number, so that
 * `ip route show proto 76` lists exactly netd's routes.  76 is 'L', outside
 * the kernel's (<= 4) and the well-known daemons' numbers.
 */
#define KIF_RTPROT		76

/* QoS: root qdisc handle 1:, netd_qos_class c is class 1:(c + 1). */
#define KIF_QOS_HANDLE		1
#define KIF_QOS_BANDS		3

/*
 * Open the NETLINK_ROUTE socket and the AF_PACKET socket used by
 * kif_inject().  Calling it twice fails with EALREADY.  Every other
 * function fails with ENOTCONN until it has succeeded.
 */
int	kif_init(void);
/* Close both sockets; kernel objects stay.  Safe to call at any time. */
void	kif_shutdown(void);

/*
 * Create the TUN device name (IFF_TUN | IFF_NO_PI, plus IFF_VNET_HDR and
 * IFF_MULTI_QUEUE for the NETD_TUN_* flags) and return its first queue in
 * *fd (O_RDWR, non-blocking, close-on-exec; the caller owns it) and its
 * index in *ifindex.  Fails with EEXIST when any link of that name exists,
 * never attaching to a device created by someone else, and with EINVAL for
 * a name the kernel would not take literally (empty, too long, '%', '/',
 * ':', white space).  The device is not persistent: it disappears when its
 * last queue is closed or kif_link_del() removes it.
 */
int	kif_tun_create(const char *name, uint32_t flags, int *fd,
	    unsigned int *ifindex);

/*
 * Open one more queue of the multiqueue TUN device ifindex; flags must be
 * those it was created with (a different NETD_TUN_VNET_HDR would silently
 * change it for every queue).  EINVAL when the link is not a TUN device or
 * the flags differ, EBUSY when it is not multiqueue, ENODEV when it is
 * gone.  The caller owns *fd (non-blocking, close-on-exec).
 */
int	kif_tun_queue(unsigned int ifindex, uint32_t flags, int *fd);

/*
 * Remove link ifindex (RTM_DELLINK), whatever its kind.  A TUN device goes
 * at once even while its queues are open elsewhere: their fds stay valid
 * but read and write then fail with EBADFD.  ENODEV when it does not exist.
 */
int	kif_link_del(unsigned int ifindex);

/*
 * Set the MTU (NETD_MTU_KEEP leaves it) and the administrative state
 * (NETD_LINK_UP, NETD_LINK_DOWN or NETD_LINK_KEEP) of link ifindex.
 */
int	kif_link_set(unsigned int ifindex, uint32_t mtu, int state);

/*
 * Add (add != 0) or delete an address with its prefix length, host bits
 * set (10.66.0.1/16).  An IPv4 address shorter than /31 also gets the
 * subnet's broadcast address, as `ip addr add ... brd +` does, and the
 * kernel adds the prefix route.  Adding an existing address fails with
 * EEXIST, deleting a missing one with EADDRNOTAVAIL.
 */
int	kif_addr(int add, unsigned int ifindex, const struct prefix *);

/*
 * Add or delete a route to dst (host bits ignored) out of ifindex: main
 * table, unicast, scope link, protocol KIF_RTPROT, priority metric.
 * Adding an existing route fails with EEXIST, deleting a missing one with
 * ESRCH.
 */
int	kif_route(int add, unsigned int ifindex, const struct prefix *dst,
	    uint32_t metric);

/*
 * Open an AF_PACKET SOCK_DGRAM socket on ifindex that receives the IPv4
 * UDP broadcasts and multicasts sent to any of the n port ranges (1 to
 * NETD_MAX_PORT_RANGES, lo <= hi).  The caller owns *fd (non-blocking,
 * close-on-exec).  Each read returns one IPv4 packet, IP header first.
 *
 * The kernel filter (compiled by libpcap from text built here) keeps
 *	udp and (dst host 255.255.255.255 or dst net 224.0.0.0/4
 *	    [or dst host B ...]) and (dst portrange lo-hi or ...)
 * where each B is the subnet-directed broadcast of an IPv4 address on
 * ifindex with a prefix shorter than /31, read when the capture opens:
 * open it after the addresses are set and reopen it when they change.
 * Unicast to a host-all-ones address of some other prefix is not
 * captured.  Later fragments carry no UDP header and are not captured.
 *
 * Both directions are captured (the socket is an ETH_P_ALL tap): datagrams
 * that local programs send out of ifindex (what LAN emulation needs) as
 * well as ones that arrive on it, including those kif_inject() sends.
 * The filter is locked (SO_LOCK_FILTER).  recvfrom() reports which in
 * sll_pkttype (PACKET_OUTGOING for the former); loop prevention is the
 * reader's.  The socket has no protocol until the filter is attached, so
 * no unfiltered packet is ever queued on it.
 */
int	kif_capture_open(unsigned int ifindex,
	    const struct netd_port_range *, size_t n, int *fd);

/*
 * Build one IPv4 UDP datagram (IHL 5, random id, no DF, checksums filled
 * in) from *inj and transmit it on inj->ifindex through AF_PACKET.  The
 * link-layer destination is the IPv4 multicast MAC for 224.0.0.0/4 and
 * ff:ff:ff:ff:ff:ff otherwise; links without one (TUN) ignore it.  It is
 * transmitted, not received: on a TUN device it goes to the queue reader,
 * on Ethernet to the wire.  EPROTONOSUPPORT unless proto is 17, EINVAL
 * for ttl 0 or len > NETD_INJECT_MAX, EMSGSIZE beyond the link MTU.
 */
int	kif_inject(const struct netd_inject *inj);

/*
 * Replace the QoS of ifindex with a strict-priority scheduler: a root htb
 * qdisc (handle 1:) with one class per netd_qos_class, 1:1 realtime, 1:2
 * normal (also the default for unmatched traffic), 1:3 bulk, with htb
 * priorities 0, 1, 2 and a rate far above any link, so that only the
 * priority matters.  (htb, not prio: some kernels, ours on CI among them,
 * are built without sch_prio.)  For each rule in order, u32 filters send
 * IPv4 packets of rule.proto whose source OR destination port lies in
 * [port_lo, port_hi] to class rule.class + 1; game traffic is matched both
 * ways because replies come from the game port.  Each port range becomes
 * power-of-two aligned blocks; rule i has filter priority i + 1, so an
 * earlier rule wins over a later one.  Ports are read at a fixed offset:
 * packets with IP options and non-first fragments are not matched and go
 * to the default class.  On failure the root qdisc is removed again.
 */
int	kif_qos_set(unsigned int ifindex, const struct netd_qos_rule *,
	    size_t n);
/* Delete the root qdisc of ifindex; success when there is none. */
int	kif_qos_clear(unsigned int ifindex);

/*
 * Delete every link whose name starts with prefix (not empty), whatever
 * its kind: the prefix is reserved for netd.  *removed counts the links
 * deleted; one that vanishes meanwhile (a veth peer) is skipped.  On
 * failure the remaining links are still tried and errno is the first
 * error.
 */
int	kif_sweep(const char *prefix, unsigned int *removed);

/* Name of link ifindex into name (NUL-terminated); ENODEV when gone. */
int	kif_ifname(unsigned int ifindex, char name[NETD_IFNAMSIZ]);
/* Index of the link called name; ENODEV when none. */
int	kif_ifindex(const char *name, unsigned int *ifindex);

#endif
