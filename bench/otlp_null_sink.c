// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A null OTLP/HTTP receiver for the pipeline benchmark: accepts POSTs on
 * 127.0.0.1:PORT, reads each body and answers 200 with an empty
 * ExportTraceServiceResponse, so what is measured is spanprobe's side alone.
 * HTTP/1.1 keep-alive and "Expect: 100-continue" are handled; nothing else.
 *
 * Usage: otlp-null-sink PORT MAX_SECONDS
 * Prints "listening PORT", serves until SIGTERM/SIGINT or MAX_SECONDS, then
 * prints "requests N bytes N". */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 16
#define HEAD_MAX 8192

struct client {
	int fd;
	char head[HEAD_MAX]; /* request head being read */
	size_t head_len;
	long body_left;      /* body bytes still to read; -1 while in the head */
};

static volatile sig_atomic_t stopping;
static unsigned long requests, body_bytes;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int write_all(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= n;
	}
	return 0;
}

/* Parses the head in c->head once it is complete; returns 1 when complete,
 * 0 when more is needed, -1 on a bad request. Leftover bytes past the head
 * count as body. */
static int parse_head(struct client *c)
{
	char *end = memmem(c->head, c->head_len, "\r\n\r\n", 4);
	long content_length = 0;
	size_t head_size, extra;
	char *line;

	if (!end)
		return c->head_len == HEAD_MAX - 1 ? -1 : 0;
	*end = '\0';
	for (line = strstr(c->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
			content_length = strtol(line + 17, NULL, 10);
		else if (strncasecmp(line + 2, "Expect: 100-continue", 20) == 0 &&
			 write_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n"))
			return -1;
	}
	head_size = end + 4 - c->head;
	extra = c->head_len - head_size;
	c->body_left = content_length - (long)extra;
	body_bytes += extra;
	c->head_len = 0;
	return 1;
}

static int answer(struct client *c)
{
	requests++;
	c->body_left = -1;
	return write_all(c->fd, "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
				"Content-Length: 0\r\n\r\n");
}

/* Reads what the client sent; returns -1 when the connection is done. */
static int serve(struct client *c)
{
	char buf[65536];
	ssize_t n;

	if (c->body_left < 0) {
		n = read(c->fd, c->head + c->head_len, HEAD_MAX - 1 - c->head_len);
		if (n <= 0)
			return -1;
		c->head_len += n;
		switch (parse_head(c)) {
		case -1: return -1;
		case 0: return 0;
		}
	} else {
		n = read(c->fd, buf, c->body_left < (long)sizeof(buf) ? c->body_left : (long)sizeof(buf));
		if (n <= 0)
			return -1;
		c->body_left -= n;
		body_bytes += n;
	}
	/* Pipelined requests are not expected: a body overrun is dropped. */
	if (c->body_left <= 0)
		return answer(c);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct pollfd fds[MAX_CLIENTS + 1];
	struct client *clients = NULL;
	int listen_fd = -1, one = 1, exit_code = 1;
	long port, max_seconds;
	time_t deadline;

	if (argc != 3 || (port = strtol(argv[1], NULL, 10)) <= 0 || port > 65535 ||
	    (max_seconds = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: %s PORT MAX_SECONDS\n", argv[0]);
		return 2;
	}
	deadline = time(NULL) + max_seconds;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	clients = calloc(MAX_CLIENTS, sizeof(*clients));
	if (!clients) {
		fprintf(stderr, "otlp-null-sink: out of memory\n");
		goto cleanup;
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;

	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0) {
		perror("otlp-null-sink: socket");
		goto cleanup;
	}
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(listen_fd, 16)) {
		fprintf(stderr, "otlp-null-sink: can't listen on 127.0.0.1:%ld: %s\n", port,
			strerror(errno));
		goto cleanup;
	}
	printf("listening %ld\n", port);
	fflush(stdout);

	while (!stopping && time(NULL) < deadline) {
		int nfds = 1;

		fds[0] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
		for (int i = 0; i < MAX_CLIENTS; i++)
			fds[nfds++] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
		if (poll(fds, nfds, 200) < 0) {
			if (errno == EINTR)
				continue;
			perror("otlp-null-sink: poll");
			goto cleanup;
		}
		if (fds[0].revents & POLLIN) {
			int fd = accept(listen_fd, NULL, NULL);
			int slot = -1;

			for (int i = 0; i < MAX_CLIENTS && fd >= 0 && slot < 0; i++)
				if (clients[i].fd < 0)
					slot = i;
			if (slot < 0) {
				if (fd >= 0)
					close(fd);
			} else {
				clients[slot] = (struct client){ .fd = fd, .body_left = -1 };
			}
		}
		for (int i = 0; i < MAX_CLIENTS; i++) {
			if (clients[i].fd < 0 || !(fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (serve(&clients[i])) {
				close(clients[i].fd);
				clients[i].fd = -1;
			}
		}
	}
	printf("requests %lu bytes %lu\n", requests, body_bytes);
	exit_code = 0;

cleanup:
	for (int i = 0; clients && i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			close(clients[i].fd);
	if (listen_fd >= 0)
		close(listen_fd);
	free(clients);
	return exit_code;
}
