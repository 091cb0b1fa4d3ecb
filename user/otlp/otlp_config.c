// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* OTLP exporter configuration from the OTEL_* environment, as the
 * OpenTelemetry specification defines it (exporter and SDK environment
 * variables): the _TRACES_ form wins over the general one, an empty value is
 * the same as an unset one, and command-line flags win over both. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "otlp_config.h"
#include "percent_decode.h"
#include "unittest.h"

#define ENV_PREFIX "OTEL_EXPORTER_OTLP_"
#define ENV_TRACES_PREFIX "OTEL_EXPORTER_OTLP_TRACES_"

/* The value of name, or NULL when it is unset or empty. */
static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* OTEL_EXPORTER_OTLP_TRACES_<suffix>, else OTEL_EXPORTER_OTLP_<suffix>;
 * *used names the variable the value came from, for error messages. */
static const char *env_pick(const char *suffix, char used[64])
{
	const char *v;

	snprintf(used, 64, ENV_TRACES_PREFIX "%s", suffix);
	v = env_get(used);
	if (v)
		return v;
	snprintf(used, 64, ENV_PREFIX "%s", suffix);
	return env_get(used);
}

static const char *trim(const char *s, size_t *len)
{
	while (*len && isspace((unsigned char)s[0])) {
		s++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)s[*len - 1]))
		(*len)--;
	return s;
}

static void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* A header name is a token, and a value has no control character but tab:
 * a decoded CR or LF would add headers of its own to every request. */
static bool header_ok(const char *key, size_t key_len, const char *value)
{
	for (size_t i = 0; i < key_len; i++)
		if ((unsigned char)key[i] <= ' ' || key[i] == ':' || key[i] == 0x7f)
			return false;
	for (; *value; value++)
		if (((unsigned char)*value < ' ' && *value != '\t') || *value == 0x7f)
			return false;
	return true;
}

/* Parses "k1=v1,k2=v2" (W3C-baggage-like, values percent-encoded, blanks
 * around keys and values ignored, empty members skipped). as_headers: the
 * result is "k: v" lines; else "k", "v" pairs. Returns -EINVAL on a member
 * without '=' or key, or a bad percent escape (as headers: also a control
 * character, or a key that is not an HTTP token). */
UNITTEST int otlp_parse_kv_list(const char *list, bool as_headers, char ***out)
{
	char **v = NULL, **grown, *value = NULL;
	const char *member = list, *end, *eq, *key;
	size_t n = 0, len, key_len, value_len;
	int err;

	*out = NULL;
	while (*member) {
		end = strchr(member, ',');
		len = end ? (size_t)(end - member) : strlen(member);
		eq = memchr(member, '=', len);
		key_len = eq ? (size_t)(eq - member) : len;
		key = trim(member, &key_len);
		if (!eq) {
			if (key_len == 0)
				goto next; /* "a=1,,b=2" */
			err = -EINVAL;
			goto cleanup;
		}
		if (key_len == 0) {
			err = -EINVAL;
			goto cleanup;
		}
		value_len = len - (eq + 1 - member);
		const char *raw = trim(eq + 1, &value_len);
		err = percent_decode(raw, value_len, &value);
		if (err)
			goto cleanup;
		grown = realloc(v, (n + 3) * sizeof(*v));
		if (!grown) {
			err = -ENOMEM;
			goto cleanup;
		}
		v = grown;
		if (as_headers) {
			if (!header_ok(key, key_len, value)) {
				err = -EINVAL;
				goto cleanup;
			}
			if (asprintf(&v[n], "%.*s: %s", (int)key_len, key, value) < 0) {
				err = -ENOMEM;
				goto cleanup;
			}
			n++;
		} else {
			v[n] = strndup(key, key_len);
			if (!v[n]) {
				err = -ENOMEM;
				goto cleanup;
			}
			v[++n] = value;
			value = NULL;
			n++;
		}
		v[n] = NULL;
		free(value);
		value = NULL;
next:
		if (!end)
			break;
		member = end + 1;
	}
	*out = v;
	return 0;
cleanup:
	free(value);
	if (v)
		v[n] = NULL;
	strv_free(v);
	return err;
}

static bool has_scheme(const char *url)
{
	return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

/* True when url has a path after its authority ("http://h:1/x"). */
static bool has_path(const char *url)
{
	const char *authority = strstr(url, "://");

	return strchr(authority ? authority + 3 : url, '/') != NULL;
}

/* The URL spanprobe posts to. traces: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
 * used as given (no path: "/"); base: OTEL_EXPORTER_OTLP_ENDPOINT or
 * --endpoint, to which HTTP appends "v1/traces" after a '/'. gRPC accepts an
 * endpoint without a scheme; insecure then picks http:// over https://. */
UNITTEST int otlp_endpoint_resolve(enum otlp_protocol protocol, const char *base,
				   const char *traces, bool insecure, char **out)
{
	const char *url = traces ? traces : base;
	const char *scheme = "";
	const char *suffix = "";
	size_t len;

	*out = NULL;
	if (!url) {
		*out = strdup(protocol == OTLP_GRPC ? "http://localhost:4317"
						    : "http://localhost:4318/v1/traces");
		return *out ? 0 : -ENOMEM;
	}
	if (!has_scheme(url)) {
		if (protocol != OTLP_GRPC || strstr(url, "://"))
			return -EINVAL;
		scheme = insecure ? "http://" : "https://";
	}
	len = strlen(url);
	if (protocol == OTLP_HTTP_PROTOBUF) {
		if (traces)
			suffix = has_path(url) ? "" : "/";
		else if (len >= 10 && strcmp(url + len - 10, "/v1/traces") == 0)
			suffix = ""; /* --endpoint given as the full URL */
		else
			suffix = url[len - 1] == '/' ? "v1/traces" : "/v1/traces";
	}
	if (asprintf(out, "%s%s%s", scheme, url, suffix) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

UNITTEST int otlp_parse_protocol(const char *value, enum otlp_protocol *out)
{
	if (strcmp(value, "grpc") == 0)
		*out = OTLP_GRPC;
	else if (strcmp(value, "http/protobuf") == 0)
		*out = OTLP_HTTP_PROTOBUF;
	else if (strcmp(value, "http/json") == 0)
		return -ENOTSUP;
	else
		return -EINVAL;
	return 0;
}

/* A whole decimal number in [min, max]; what names the unit in the error. */
static int parse_u32(const char *name, const char *value, const char *what,
		     uint32_t min, uint32_t max, uint32_t *out)
{
	const char *given = value;
	unsigned long long v;
	char *end;

	errno = 0;
	while (isspace((unsigned char)*value))
		value++;
	v = strtoull(value, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (!isdigit((unsigned char)*value) || *end || errno) {
		fprintf(stderr, "spanprobe: %s='%s' is not a number of %s\n", name,
			given, what);
		return -EINVAL;
	}
	if (v < min || v > max) {
		fprintf(stderr, "spanprobe: %s='%s' is out of range (want %u..%u %s)\n", name,
			given, min, max, what);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int env_u32(const char *name, const char *what, uint32_t min, uint32_t *out)
{
	const char *v = env_get(name);

	return v ? parse_u32(name, v, what, min, INT32_MAX, out) : 0;
}

/* The specification's booleans: "true" in any case; anything but "false"
 * is also false, with a warning. */
static bool env_bool(const char *name, const char *value)
{
	if (!value || strcasecmp(value, "false") == 0)
		return false;
	if (strcasecmp(value, "true") == 0)
		return true;
	fprintf(stderr, "spanprobe: warning: %s='%s' is not true or false; using false\n",
		name, value);
	return false;
}

/* A PEM file path the TLS layer will read later; checked now so a typo is
 * reported at startup rather than on the first export. */
static int env_file(const char *suffix, char **out)
{
	char used[64];
	const char *v = env_pick(suffix, used);

	if (!v)
		return 0;
	if (access(v, R_OK) != 0) {
		int err = -errno;

		fprintf(stderr, "spanprobe: %s='%s': %s\n", used, v, strerror(-err));
		return err;
	}
	*out = strdup(v);
	return *out ? 0 : -ENOMEM;
}

/* Moves "service.name" out of the resource attribute pairs: OTEL_SERVICE_NAME
 * and --service-name win over it, and it wins over the executable name. */
static int take_service_name(struct otlp_config *cfg)
{
	char **kv = cfg->resource_attrs, **dst;

	if (!kv)
		return 0;
	for (dst = kv; *kv; kv += 2) {
		if (strcmp(kv[0], "service.name") != 0) {
			*dst++ = kv[0];
			*dst++ = kv[1];
			continue;
		}
		free(kv[0]);
		if (!cfg->service_name)
			cfg->service_name = kv[1];
		else
			free(kv[1]);
	}
	*dst = NULL;
	return 0;
}

static int config_endpoint(struct otlp_config *cfg, const char *flag)
{
	char used[64], traces_name[] = ENV_TRACES_PREFIX "ENDPOINT";
	const char *traces = flag ? NULL : env_get(traces_name);
	const char *base = flag ? flag : env_get(ENV_PREFIX "ENDPOINT");
	const char *insecure = env_pick("INSECURE", used);
	int err;

	cfg->insecure = env_bool(used, insecure);
	err = otlp_endpoint_resolve(cfg->protocol, base, traces, cfg->insecure, &cfg->endpoint);
	if (err == -EINVAL)
		fprintf(stderr, "spanprobe: %s='%s' is not an http:// or https:// URL\n",
			flag ? "--endpoint" : traces ? traces_name : ENV_PREFIX "ENDPOINT",
			traces ? traces : base);
	if (!err && strncmp(cfg->endpoint, "http://", 7) == 0)
		cfg->insecure = true; /* http:// means no TLS whatever INSECURE says */
	return err;
}

static int config_protocol(struct otlp_config *cfg, const char *flag)
{
	char used[64];
	const char *v = flag ? flag : env_pick("PROTOCOL", used);
	int err;

	/* The specification's default is http/protobuf (it was grpc before
	 * 1.x of the exporter spec); SDKs follow it, and so do we. */
	cfg->protocol = OTLP_HTTP_PROTOBUF;
	if (!v)
		return 0;
	err = otlp_parse_protocol(v, &cfg->protocol);
	if (err == -ENOTSUP) {
		fprintf(stderr, "spanprobe: OTLP protocol 'http/json' is not supported "
				"(use http/protobuf or grpc)\n");
		return -EINVAL;
	}
	if (err)
		fprintf(stderr, "spanprobe: %s='%s' is not an OTLP protocol (use grpc or "
				"http/protobuf)\n", flag ? "--protocol" : used, v);
	return err;
}

static int config_transport(struct otlp_config *cfg)
{
	char used[64];
	const char *v;
	int err;

	v = env_pick("HEADERS", used);
	if (v && otlp_parse_kv_list(v, true, &cfg->headers)) {
		fprintf(stderr, "spanprobe: %s is not a list of key=value (percent-encoded "
				"values, comma-separated)\n", used);
		return -EINVAL;
	}
	v = env_pick("TIMEOUT", used);
	if (v && (err = parse_u32(used, v, "milliseconds", 1, INT32_MAX, &cfg->timeout_ms)))
		return err;
	v = env_pick("COMPRESSION", used);
	if (v && strcmp(v, "gzip") == 0) {
		cfg->gzip = true;
	} else if (v && strcmp(v, "none") != 0) {
		fprintf(stderr, "spanprobe: %s='%s' is not a compression (use gzip or none)\n",
			used, v);
		return -EINVAL;
	}
	if ((err = env_file("CERTIFICATE", &cfg->certificate)) ||
	    (err = env_file("CLIENT_KEY", &cfg->client_key)) ||
	    (err = env_file("CLIENT_CERTIFICATE", &cfg->client_certificate)))
		return err;
	return 0;
}

static int config_resource(struct otlp_config *cfg, const char *flag)
{
	const char *v = flag ? flag : env_get("OTEL_SERVICE_NAME");
	char host[256];

	if (v && !(cfg->service_name = strdup(v)))
		return -ENOMEM;
	v = env_get("OTEL_RESOURCE_ATTRIBUTES");
	/* The specification: on a decoding error, discard the whole value. */
	if (v && otlp_parse_kv_list(v, false, &cfg->resource_attrs))
		fprintf(stderr, "spanprobe: warning: ignoring OTEL_RESOURCE_ATTRIBUTES: not a "
				"list of key=value with percent-encoded values\n");
	take_service_name(cfg);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	cfg->host_name = strdup(host);
	return cfg->host_name ? 0 : -ENOMEM;
}

static int config_batch(struct otlp_config *cfg)
{
	int err;

	if ((err = env_u32("OTEL_BSP_SCHEDULE_DELAY", "milliseconds", 0, &cfg->schedule_delay_ms)) ||
	    (err = env_u32("OTEL_BSP_EXPORT_TIMEOUT", "milliseconds", 1, &cfg->export_timeout_ms)) ||
	    (err = env_u32("OTEL_BSP_MAX_QUEUE_SIZE", "spans", 1, &cfg->max_queue_size)) ||
	    (err = env_u32("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "spans", 1,
			   &cfg->max_export_batch_size)))
		return err;
	/* The specification requires batch <= queue; a bigger batch could never
	 * fill, so use the queue size. */
	if (cfg->max_export_batch_size > cfg->max_queue_size) {
		fprintf(stderr, "spanprobe: warning: OTEL_BSP_MAX_EXPORT_BATCH_SIZE %u is "
				"larger than OTEL_BSP_MAX_QUEUE_SIZE %u; using %u\n",
			cfg->max_export_batch_size, cfg->max_queue_size, cfg->max_queue_size);
		cfg->max_export_batch_size = cfg->max_queue_size;
	}
	return 0;
}

int otlp_config__from_env(struct otlp_config *cfg, const char *endpoint,
			  const char *protocol, const char *service_name)
{
	int err;

	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_ms = 10000;
	cfg->schedule_delay_ms = 5000;
	cfg->export_timeout_ms = 30000;
	cfg->max_queue_size = 2048;
	cfg->max_export_batch_size = 512;

	err = config_protocol(cfg, protocol);
	if (err)
		goto cleanup;
	err = config_endpoint(cfg, endpoint);
	if (err)
		goto cleanup;
	err = config_transport(cfg);
	if (err)
		goto cleanup;
	err = config_resource(cfg, service_name);
	if (err)
		goto cleanup;
	err = config_batch(cfg);
cleanup:
	if (err == -ENOMEM)
		fprintf(stderr, "spanprobe: out of memory reading the OTLP configuration\n");
	if (err)
		otlp_config__release(cfg);
	return err;
}

void otlp_config__release(struct otlp_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->endpoint);
	strv_free(cfg->headers);
	free(cfg->certificate);
	free(cfg->client_key);
	free(cfg->client_certificate);
	free(cfg->service_name);
	strv_free(cfg->resource_attrs);
	free(cfg->host_name);
	memset(cfg, 0, sizeof(*cfg));
}
