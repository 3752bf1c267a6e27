/*
 * relay-raw: the raw limit of a UDP forwarder on this machine, for
 * bench/relay.sh: one thread, one socket, batches of 64 read with
 * recvmmsg and sent with sendmmsg to one fixed destination, unread and
 * unchanged.  Whatever a relay does on top of this costs against it.
 *
 *	relay-raw LISTEN_ADDR:PORT DEST_ADDR:PORT
 *
 * Runs until killed.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "lib/addr.h"

#define BATCH	64
#define SLOT	2048

int
main(int argc, char *argv[])
{
	static uint8_t		 buf[BATCH][SLOT];
	struct mmsghdr		 msg[BATCH];
	struct iovec		 iov[BATCH];
	struct sockaddr_storage	 lss, dss;
	socklen_t		 llen, dlen;
	int			 fd, n, i, big = 4 << 20;

	if (argc != 3 || sockaddr_parse(argv[1], &lss, &llen) == -1 ||
	    sockaddr_parse(argv[2], &dss, &dlen) == -1) {
		fprintf(stderr, "usage: relay-raw LISTEN:PORT DEST:PORT\n");
		return 2;
	}
	if ((fd = socket(lss.ss_family, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&lss, llen) == -1) {
		perror("relay-raw");
		return 1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	for (;;) {
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = SLOT;
			memset(&msg[i].msg_hdr, 0, sizeof(msg[i].msg_hdr));
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		if ((n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL)) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			iov[i].iov_len = msg[i].msg_len;
			msg[i].msg_hdr.msg_name = &dss;
			msg[i].msg_hdr.msg_namelen = dlen;
		}
		(void)sendmmsg(fd, msg, (unsigned)n, 0);
	}
}
