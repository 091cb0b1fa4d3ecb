// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "metrics_server.h"

struct metrics_server {
	int listen_fd;
	int port;
	pthread_t thread;
	bool stopping; /* read and written with __atomic builtins */
	metrics_collect_fn collect;
	void *ctx;
};

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* One request, one answer, close: scrapers need nothing more. */
static void serve(struct metrics_server *s, int fd)
{
	struct timeval timeout = { 1, 0 };
	char request[2048], head[256], *body = NULL;
	size_t body_len = 0;
	ssize_t n;
	FILE *out;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	n = recv(fd, request, sizeof(request) - 1, 0);
	if (n <= 0)
		return;
	request[n] = '\0';
	if (strncmp(request, "GET ", 4) != 0) {
		static const char bad[] = "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n"
					  "Connection: close\r\n\r\n";
		write_all(fd, bad, sizeof(bad) - 1);
		return;
	}
	out = open_memstream(&body, &body_len);
	if (!out)
		return;
	s->collect(s->ctx, out);
	fclose(out);
	n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n", body_len);
	write_all(fd, head, (size_t)n);
	write_all(fd, body, body_len);
	free(body);
}

static void *server_thread(void *arg)
{
	struct metrics_server *s = arg;
	struct pollfd pfd = { .fd = s->listen_fd, .events = POLLIN };

	while (!__atomic_load_n(&s->stopping, __ATOMIC_RELAXED)) {
		int fd;

		/* wake up now and then to see the stop flag */
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(s, fd);
		close(fd);
	}
	return NULL;
}

int metrics_server__start(const char *addr, metrics_collect_fn collect, void *ctx,
			  struct metrics_server **out)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *colon = strrchr(addr, ':');
	struct metrics_server *s = NULL;
	socklen_t len = sizeof(sin);
	char host[64];
	char *end;
	long port;
	int one = 1, err;

	*out = NULL;
	if (!colon || (size_t)(colon - addr) >= sizeof(host)) {
		fprintf(stderr, "spanprobe: --metrics-addr '%s': expected HOST:PORT (e.g. 127.0.0.1:9464)\n", addr);
		return -EINVAL;
	}
	memcpy(host, addr, colon - addr);
	host[colon - addr] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "spanprobe: --metrics-addr '%s': expected an IPv4 address and a port "
			"(e.g. 127.0.0.1:9464)\n", addr);
		return -EINVAL;
	}
	sin.sin_port = htons((uint16_t)port);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->collect = collect;
	s->ctx = ctx;
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0) {
		err = -errno;
		goto fail;
	}
	setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(s->listen_fd, 8) ||
	    getsockname(s->listen_fd, (struct sockaddr *)&sin, &len)) {
		err = -errno;
		goto fail;
	}
	s->port = ntohs(sin.sin_port);
	err = -pthread_create(&s->thread, NULL, server_thread, s);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	fprintf(stderr, "spanprobe: can't serve metrics on %s: %s (pick another port)\n", addr,
		strerror(-err));
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s);
	return err;
}

int metrics_server__port(const struct metrics_server *s)
{
	return s ? s->port : -1;
}

void metrics_server__stop(struct metrics_server *s)
{
	if (!s)
		return;
	__atomic_store_n(&s->stopping, true, __ATOMIC_RELAXED);
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
	free(s);
}
