// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A fault-injecting OTLP/HTTP proxy for the end-to-end tests. It listens on
 * loopback and, one request at a time:
 *   --fail N --retry-after S   answers the first N requests "503 Service
 *                              Unavailable" with "Retry-After: S", then
 *   --upstream HOST:PORT       forwards each request there (a real collector)
 *                              and relays the answer;
 *   --hang                     accepts connections and never answers;
 *   --delay-ms MS --delay N    holds each of the first N requests (after any
 *                              --fail ones) MS ms before forwarding it, as an
 *                              overloaded collector does; a request whose
 *                              client gave up meanwhile is dropped unseen by
 *                              the upstream ("client-gone 2"), as a collector
 *                              that had not started on it would.
 *   --show-header NAME         prints each request's NAME header as it came
 *                              ("header NAME: VALUE", or "header NAME absent"),
 *                              before its outcome line; repeatable.
 * It prints "listening PORT" once bound (--port 0 picks a free one), then one
 * line per request ("503 1", "forwarded 4 200"), so a test can count them.
 * HTTP/1.1 with Content-Length bodies only: what libcurl sends for OTLP/HTTP.
 * Usage: otlp-fault-proxy [--port P] (--upstream HOST:PORT | --hang)
 *                         [--fail N] [--retry-after S] [--delay N --delay-ms MS]
 *                         [--show-header NAME]... */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEADERS_MAX (64 * 1024)
#define BODY_MAX (64u << 20)
#define IO_TIMEOUT_S 10

struct proxy_opts {
	int port;
	const char *upstream_host;
	int upstream_port;
	int fail;
	int retry_after_s;
	int hang;
	int delay;
	int delay_ms;
	const char *show[8];
	int nshow;
};

struct request {
	char *head;      /* request line and headers, up to the blank line */
	size_t head_len;
	char *body;
	size_t body_len;
};

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The value of header NAME in head (NUL-terminated), or NULL. */
static const char *find_header(const char *head, const char *name)
{
	size_t n = strlen(name);

	for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, name, n) == 0 && line[2 + n] == ':')
			return line + 3 + n;
	}
	return NULL;
}

static void request__release(struct request *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Reads one request; returns 0, -ENODATA when the client closed first, or
 * another negative errno. */
static int read_request(int fd, struct request *r)
{
	char *buf = malloc(HEADERS_MAX + 1), *end = NULL;
	const char *cl;
	size_t len = 0, have;
	int err;

	if (!buf)
		return -ENOMEM;
	while (!end) {
		ssize_t n = read(fd, buf + len, HEADERS_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n == 0 && len == 0 ? -ENODATA : n < 0 ? -errno : -EPROTO;
			goto cleanup;
		}
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end && len == HEADERS_MAX) {
			err = -E2BIG;
			goto cleanup;
		}
	}
	r->head_len = (size_t)(end - buf) + 2; /* keep the last header's CRLF */
	cl = find_header(buf, "Content-Length");
	r->body_len = cl ? strtoul(cl, NULL, 10) : 0;
	if (r->body_len > BODY_MAX) {
		err = -E2BIG;
		goto cleanup;
	}
	r->body = malloc(r->body_len + 1);
	r->head = strndup(buf, r->head_len);
	if (!r->body || !r->head) {
		err = -ENOMEM;
		goto cleanup;
	}
	have = len - (r->head_len + 2);
	if (have > r->body_len)
		have = r->body_len; /* pipelining: not from libcurl's OTLP posts */
	memcpy(r->body, end + 4, have);
	while (have < r->body_len) {
		ssize_t n = read(fd, r->body + have, r->body_len - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EPROTO;
			goto cleanup;
		}
		have += (size_t)n;
	}
	err = 0;
cleanup:
	free(buf);
	if (err) {
		free(r->head);
		free(r->body);
		memset(r, 0, sizeof(*r));
	}
	return err;
}

static int connect_upstream(const struct proxy_opts *o)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(o->upstream_port) };
	int fd, err;

	if (inet_pton(AF_INET, o->upstream_host, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Sends r upstream with "Connection: close" and relays the whole answer to
 * the client. Returns the upstream's HTTP status, or a negative errno. */
static int forward(const struct proxy_opts *o, int client, const struct request *r)
{
	char buf[16384];
	int up, status = -EPROTO, err;
	bool first = true;

	up = connect_upstream(o);
	if (up < 0)
		return up;
	/* libcurl sends no Connection header; ours makes the upstream close
	 * after its answer, so the answer ends at EOF. */
	err = write_all(up, r->head, r->head_len);
	err = err ?: write_all(up, "Connection: close\r\n\r\n", 21);
	err = err ?: write_all(up, r->body, r->body_len);
	if (err)
		goto cleanup;
	for (;;) {
		ssize_t n = read(up, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		if (n == 0)
			break;
		if (first && n > 12 && sscanf(buf, "HTTP/%*s %d", &status) != 1)
			status = -EPROTO;
		first = false;
		err = write_all(client, buf, (size_t)n);
		if (err)
			goto cleanup;
	}
	err = status;
cleanup:
	close(up);
	return err;
}

/* Waits up to ms for the client to hang up; true when it did. */
static bool client_gone_within(int client, int ms)
{
	struct pollfd p = { .fd = client, .events = POLLIN | POLLRDHUP };
	char byte;

	if (poll(&p, 1, ms) <= 0)
		return false;
	return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) ||
	       recv(client, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static int serve(const struct proxy_opts *o, int listener)
{
	unsigned long requests = 0;
	int failed = 0, delayed = 0;

	for (;;) {
		int client = accept4(listener, NULL, NULL, SOCK_CLOEXEC);

		if (client < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "otlp-fault-proxy: accept: %s\n", strerror(errno));
			return -errno;
		}
		if (o->hang)
			continue; /* keep it open, never answer */
		set_timeouts(client);
		/* One request per connection: every answer closes it. */
		struct request r = { 0 };
		int err = read_request(client, &r);

		for (int i = 0; !err && i < o->nshow; i++) {
			const char *v = find_header(r.head, o->show[i]);
			int len = v ? (int)strcspn(v, "\r") : 0;

			while (v && len && *v == ' ')
				v++, len--;
			if (v)
				printf("header %s: %.*s\n", o->show[i], len, v);
			else
				printf("header %s absent\n", o->show[i]);
		}
		if (err) {
			if (err != -ENODATA)
				printf("bad-request %s\n", strerror(-err));
		} else if (failed < o->fail) {
			char answer[160];
			int len = snprintf(answer, sizeof(answer),
					   "HTTP/1.1 503 Service Unavailable\r\nRetry-After: %d\r\n"
					   "Content-Length: 0\r\nConnection: close\r\n\r\n",
					   o->retry_after_s);

			failed++;
			requests++;
			write_all(client, answer, (size_t)len);
			printf("503 %lu\n", requests);
		} else {
			bool slow = delayed < o->delay;

			requests++;
			if (slow)
				delayed++;
			if (slow && client_gone_within(client, o->delay_ms)) {
				printf("client-gone %lu\n", requests);
			} else {
				err = forward(o, client, &r);
				if (err < 0) {
					static const char bad_gateway[] =
						"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
						"Connection: close\r\n\r\n";

					write_all(client, bad_gateway, sizeof(bad_gateway) - 1);
					printf("upstream-error %lu %s\n", requests, strerror(-err));
				} else {
					printf("forwarded %lu %d\n", requests, err);
				}
			}
		}
		fflush(stdout);
		request__release(&r);
		close(client);
	}
}

static int parse_args(int argc, char **argv, struct proxy_opts *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "upstream", required_argument, NULL, 'u' },
		{ "fail", required_argument, NULL, 'f' },
		{ "retry-after", required_argument, NULL, 'r' },
		{ "hang", no_argument, NULL, 'h' },
		{ "delay", required_argument, NULL, 'd' },
		{ "delay-ms", required_argument, NULL, 'm' },
		{ "show-header", required_argument, NULL, 's' },
		{ 0 },
	};
	static char host[64];
	char *colon;
	int c;

	o->retry_after_s = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->port = atoi(optarg); break;
		case 'f': o->fail = atoi(optarg); break;
		case 'r': o->retry_after_s = atoi(optarg); break;
		case 'h': o->hang = 1; break;
		case 'd': o->delay = atoi(optarg); break;
		case 'm': o->delay_ms = atoi(optarg); break;
		case 's':
			if (o->nshow < (int)(sizeof(o->show) / sizeof(o->show[0])))
				o->show[o->nshow++] = optarg;
			break;
		case 'u':
			colon = strrchr(optarg, ':');
			if (!colon || (size_t)(colon - optarg) >= sizeof(host))
				return -EINVAL;
			memcpy(host, optarg, (size_t)(colon - optarg));
			host[colon - optarg] = '\0';
			o->upstream_host = host;
			o->upstream_port = atoi(colon + 1);
			break;
		default: return -EINVAL;
		}
	}
	if (optind != argc || (!o->upstream_host && !o->hang))
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sa_len = sizeof(sa);
	struct proxy_opts o = { 0 };
	int listener = -1, one = 1, err;

	if (parse_args(argc, argv, &o)) {
		fprintf(stderr, "usage: otlp-fault-proxy [--port P] (--upstream HOST:PORT | --hang) "
				"[--fail N] [--retry-after S] [--delay N --delay-ms MS]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sa.sin_port = htons(o.port);
	listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(listener, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(listener, 64) ||
	    getsockname(listener, (struct sockaddr *)&sa, &sa_len)) {
		err = -errno;
		fprintf(stderr, "otlp-fault-proxy: cannot listen on 127.0.0.1:%d: %s\n", o.port,
			strerror(-err));
		goto cleanup;
	}
	printf("listening %d\n", ntohs(sa.sin_port));
	fflush(stdout);
	err = serve(&o, listener);
cleanup:
	if (listener >= 0)
		close(listener);
	return err ? 1 : 0;
}
