// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The Flask benchmark's client (bench/python_flask.sh): THREADS threads,
 * each on its own keep-alive connection, send GET PATH/N for N = 1..REQUESTS
 * between them and read each answer whole. In C, so the client costs little
 * beside the server on a 2-CPU machine and runs no Python (a probed
 * interpreter would slow the client too).
 *
 * Usage: http-load PORT PATH REQUESTS THREADS
 * Prints "requests N ok N refused N failed N seconds S rps R" (ok: 200,
 * refused: 400, failed: anything else or a broken connection). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;
static const char *path;
static long total;
static long next_n = 1;
static long ok, refused, failed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int connect_to(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request on fd: the status, or -1 when the connection broke. *closing:
 * the server said it closes the connection. */
static int one_request(int fd, long n, int *closing)
{
	char buf[8192];
	size_t have = 0;
	long body = -1;
	char *end = NULL;
	int len = snprintf(buf, sizeof(buf), "GET %s/%ld HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path, n);
	int status;

	if (write(fd, buf, len) != len)
		return -1;
	while (!end) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (r <= 0)
			return -1;
		have += r;
		buf[have] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (!end && have == sizeof(buf) - 1)
			return -1;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	for (char *h = strstr(buf, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n")) {
		if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
			body = atol(h + 17);
		if (strncasecmp(h + 2, "Connection: close", 17) == 0)
			*closing = 1;
	}
	if (body < 0)
		return -1;
	body -= (long)(have - (size_t)(end + 4 - buf));
	while (body > 0) {
		ssize_t r = read(fd, buf, body < (long)sizeof(buf) ? body : (long)sizeof(buf));

		if (r <= 0)
			return -1;
		body -= r;
	}
	return status;
}

static void *worker(void *arg)
{
	int fd = -1;

	(void)arg;
	for (;;) {
		int status, closing = 0;
		long n;

		pthread_mutex_lock(&lock);
		n = next_n <= total ? next_n++ : 0;
		pthread_mutex_unlock(&lock);
		if (!n)
			break;
		if (fd < 0)
			fd = connect_to();
		status = fd < 0 ? -1 : one_request(fd, n, &closing);
		if (status < 0 && fd >= 0) { /* a keep-alive connection the server closed: once more */
			close(fd);
			fd = connect_to();
			closing = 0;
			status = fd < 0 ? -1 : one_request(fd, n, &closing);
		}
		pthread_mutex_lock(&lock);
		if (status == 200)
			ok++;
		else if (status == 400)
			refused++;
		else
			failed++;
		pthread_mutex_unlock(&lock);
		if ((status < 0 || closing) && fd >= 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	pthread_t th[64];
	int nthreads;
	double s;

	if (argc != 5) {
		fprintf(stderr, "usage: http-load PORT PATH REQUESTS THREADS\n");
		return 2;
	}
	port = atoi(argv[1]);
	path = argv[2];
	total = atol(argv[3]);
	nthreads = atoi(argv[4]);
	if (nthreads < 1 || nthreads > 64 || total < 1) {
		fprintf(stderr, "http-load: 1-64 threads, at least 1 request\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("requests %ld ok %ld refused %ld failed %ld seconds %.3f rps %.1f\n", total, ok,
	       refused, failed, s, (double)(ok + refused) / s);
	return failed ? 1 : 0;
}
