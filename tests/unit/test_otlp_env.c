// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* OTLP configuration from the environment, against the specification's
 * table (OTLP-NOTES.md): defaults, _TRACES_ winning, empty = unset, flags
 * winning, endpoint paths, headers and resource attributes, bad values. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "otlp_exporter.h"
#include "percent_decode.h"
#include "unit.h"

int otlp_parse_kv_list(const char *list, bool as_headers, char ***out);
int otlp_endpoint_resolve(enum otlp_protocol protocol, const char *base, const char *traces,
			  bool insecure, char **out);

static const char *const all_vars[] = {
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
	"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
	"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
	"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
	"OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
	"OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
	"OTEL_EXPORTER_OTLP_CLIENT_KEY", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
	"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
	"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_BSP_SCHEDULE_DELAY",
	"OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
};

/* env: "NAME=value" strings, NULL-terminated. */
static void set_env(const char *const *env)
{
	for (size_t i = 0; i < sizeof(all_vars) / sizeof(all_vars[0]); i++)
		unsetenv(all_vars[i]);
	for (; env && *env; env++) {
		char *eq = strchr(*env, '=');
		char name[128];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - *env), *env);
		setenv(name, eq + 1, 1);
	}
}

#define ENV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_endpoint_table(void)
{
	const struct {
		const char *const *env;
		const char *flag_endpoint, *flag_protocol;
		enum otlp_protocol protocol;
		const char *endpoint;
		bool insecure;
	} rows[] = {
		/* defaults: http/protobuf per the current specification */
		{ NULL, NULL, NULL, OTLP_HTTP_PROTOBUF, "http://localhost:4318/v1/traces", true },
		{ ENV("OTEL_EXPORTER_OTLP_PROTOCOL=grpc"), NULL, NULL, OTLP_GRPC,
		  "http://localhost:4317", true },
		/* the general endpoint gets v1/traces after a '/' */
		{ ENV("OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318"), NULL, NULL, OTLP_HTTP_PROTOBUF,
		  "http://c:4318/v1/traces", true },
		{ ENV("OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318/"), NULL, NULL, OTLP_HTTP_PROTOBUF,
		  "http://c:4318/v1/traces", true },
		{ ENV("OTEL_EXPORTER_OTLP_ENDPOINT=https://c/otlp"), NULL, NULL, OTLP_HTTP_PROTOBUF,
		  "https://c/otlp/v1/traces", false },
		/* the traces endpoint is used as given; no path means "/" */
		{ ENV("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://c:4318/custom"), NULL, NULL,
		  OTLP_HTTP_PROTOBUF, "http://c:4318/custom", true },
		{ ENV("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://c:4318"), NULL, NULL,
		  OTLP_HTTP_PROTOBUF, "http://c:4318/", true },
		/* _TRACES_ wins */
		{ ENV("OTEL_EXPORTER_OTLP_ENDPOINT=http://a:1", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://b:2/x"),
		  NULL, NULL, OTLP_HTTP_PROTOBUF, "http://b:2/x", true },
		{ ENV("OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc"),
		  NULL, NULL, OTLP_GRPC, "http://localhost:4317", true },
		/* empty = unset */
		{ ENV("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=", "OTEL_EXPORTER_OTLP_ENDPOINT=http://a:1"),
		  NULL, NULL, OTLP_HTTP_PROTOBUF, "http://a:1/v1/traces", true },
		{ ENV("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"), NULL,
		  NULL, OTLP_GRPC, "http://localhost:4317", true },
		/* gRPC: as given; no scheme: INSECURE picks http or https */
		{ ENV("OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4317"),
		  NULL, NULL, OTLP_GRPC, "http://c:4317", true },
		{ ENV("OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_ENDPOINT=c:4317"), NULL,
		  NULL, OTLP_GRPC, "https://c:4317", false },
		{ ENV("OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_ENDPOINT=c:4317",
		      "OTEL_EXPORTER_OTLP_INSECURE=TRUE"),
		  NULL, NULL, OTLP_GRPC, "http://c:4317", true },
		{ ENV("OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_ENDPOINT=https://c:4317",
		      "OTEL_EXPORTER_OTLP_INSECURE=true"),
		  NULL, NULL, OTLP_GRPC, "https://c:4317", true },
		/* flags win over everything */
		{ ENV("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://b:2/x", "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"),
		  "http://f:4318", "http/protobuf", OTLP_HTTP_PROTOBUF, "http://f:4318/v1/traces", true },
		{ NULL, "http://f:4318/v1/traces", NULL, OTLP_HTTP_PROTOBUF, "http://f:4318/v1/traces",
		  true },
		{ NULL, "http://f:4317", "grpc", OTLP_GRPC, "http://f:4317", true },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct otlp_config cfg;
		int err;

		set_env(rows[i].env);
		err = otlp_config__from_env(&cfg, rows[i].flag_endpoint, rows[i].flag_protocol, NULL);
		CHECK_INT(err, 0);
		if (err)
			continue;
		CHECK_INT(cfg.protocol, rows[i].protocol);
		CHECK_STR(cfg.endpoint, rows[i].endpoint);
		CHECK_INT(cfg.insecure, rows[i].insecure);
		otlp_config__release(&cfg);
	}
	set_env(NULL);
}

static void test_defaults(void)
{
	struct otlp_config cfg;

	set_env(NULL);
	CHECK_INT(otlp_config__from_env(&cfg, NULL, NULL, NULL), 0);
	CHECK_INT(cfg.timeout_ms, 10000);
	CHECK_INT(cfg.schedule_delay_ms, 5000);
	CHECK_INT(cfg.export_timeout_ms, 30000);
	CHECK_INT(cfg.max_queue_size, 2048);
	CHECK_INT(cfg.max_export_batch_size, 512);
	CHECK(!cfg.gzip);
	CHECK(cfg.headers == NULL);
	CHECK(cfg.service_name == NULL);
	CHECK(cfg.resource_attrs == NULL);
	CHECK(cfg.host_name && cfg.host_name[0]);
	otlp_config__release(&cfg);
}

static void test_values(void)
{
	struct otlp_config cfg;

	set_env(ENV("OTEL_EXPORTER_OTLP_TIMEOUT=2000", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=3000",
		    "OTEL_EXPORTER_OTLP_COMPRESSION=gzip", "OTEL_BSP_SCHEDULE_DELAY=100",
		    "OTEL_BSP_EXPORT_TIMEOUT=700", "OTEL_BSP_MAX_QUEUE_SIZE=100",
		    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=10",
		    "OTEL_EXPORTER_OTLP_HEADERS=a=1",
		    "OTEL_EXPORTER_OTLP_TRACES_HEADERS=api-key=s%3Dx%2Cy , x-tenant = t1,,",
		    "OTEL_EXPORTER_OTLP_CERTIFICATE=/dev/null"));
	CHECK_INT(otlp_config__from_env(&cfg, NULL, NULL, "flag-svc"), 0);
	CHECK_INT(cfg.timeout_ms, 3000);
	CHECK(cfg.gzip);
	CHECK_INT(cfg.schedule_delay_ms, 100);
	CHECK_INT(cfg.export_timeout_ms, 700);
	CHECK_INT(cfg.max_queue_size, 100);
	CHECK_INT(cfg.max_export_batch_size, 10);
	CHECK(cfg.headers && cfg.headers[0] && cfg.headers[1] && !cfg.headers[2]);
	if (cfg.headers && cfg.headers[0] && cfg.headers[1]) {
		CHECK_STR(cfg.headers[0], "api-key: s=x,y");
		CHECK_STR(cfg.headers[1], "x-tenant: t1");
	}
	CHECK_STR(cfg.certificate, "/dev/null");
	CHECK_STR(cfg.service_name, "flag-svc");
	otlp_config__release(&cfg);

	/* a batch bigger than the queue is clamped to it */
	set_env(ENV("OTEL_BSP_MAX_QUEUE_SIZE=8", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=512"));
	CHECK_INT(otlp_config__from_env(&cfg, NULL, NULL, NULL), 0);
	CHECK_INT(cfg.max_export_batch_size, 8);
	otlp_config__release(&cfg);
	set_env(NULL);
}

static void test_bad_values(void)
{
	const struct {
		const char *const *env;
		const char *flag_protocol;
	} rows[] = {
		{ ENV("OTEL_EXPORTER_OTLP_TIMEOUT=abc"), NULL },
		{ ENV("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=10s"), NULL },
		{ ENV("OTEL_EXPORTER_OTLP_TIMEOUT=-5"), NULL },
		{ ENV("OTEL_EXPORTER_OTLP_TIMEOUT=0"), NULL },
		{ ENV("OTEL_EXPORTER_OTLP_TIMEOUT=99999999999"), NULL },
		{ ENV("OTEL_BSP_MAX_QUEUE_SIZE=lots"), NULL },
		{ ENV("OTEL_BSP_MAX_EXPORT_BATCH_SIZE=0"), NULL },
		{ ENV("OTEL_BSP_SCHEDULE_DELAY=1.5"), NULL },
		{ ENV("OTEL_EXPORTER_OTLP_PROTOCOL=http/json"), NULL },
		{ ENV("OTEL_EXPORTER_OTLP_PROTOCOL=thrift"), NULL },
		{ NULL, "http/json" },
		{ ENV("OTEL_EXPORTER_OTLP_COMPRESSION=zstd"), NULL },
		{ ENV("OTEL_EXPORTER_OTLP_ENDPOINT=localhost:4318"), NULL }, /* HTTP needs a scheme */
		{ ENV("OTEL_EXPORTER_OTLP_ENDPOINT=ftp://c"), "grpc" },
		{ ENV("OTEL_EXPORTER_OTLP_HEADERS=novalue"), NULL },
		{ ENV("OTEL_EXPORTER_OTLP_HEADERS=k=%zz"), NULL },
		{ ENV("OTEL_EXPORTER_OTLP_CERTIFICATE=/nonexistent/ca.pem"), NULL },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct otlp_config cfg;
		int err;

		set_env(rows[i].env);
		err = otlp_config__from_env(&cfg, NULL, rows[i].flag_protocol, NULL);
		if (err == 0) {
			printf("  row %zu: accepted\n", i);
			otlp_config__release(&cfg);
		}
		CHECK(err < 0);
		CHECK(cfg.endpoint == NULL); /* released on failure */
	}
	set_env(NULL);
}

static void test_resource_attributes(void)
{
	struct otlp_config cfg;

	/* values percent-decoded; service.name moves out of the list */
	set_env(ENV("OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod, team=a%20b,service.name=from-attrs"));
	CHECK_INT(otlp_config__from_env(&cfg, NULL, NULL, NULL), 0);
	CHECK_STR(cfg.service_name, "from-attrs");
	CHECK(cfg.resource_attrs != NULL);
	if (cfg.resource_attrs) {
		CHECK_STR(cfg.resource_attrs[0], "deployment.environment");
		CHECK_STR(cfg.resource_attrs[1], "prod");
		CHECK_STR(cfg.resource_attrs[2], "team");
		CHECK_STR(cfg.resource_attrs[3], "a b");
		CHECK(cfg.resource_attrs[4] == NULL);
	}
	otlp_config__release(&cfg);

	/* OTEL_SERVICE_NAME wins over service.name in the attributes */
	set_env(ENV("OTEL_RESOURCE_ATTRIBUTES=service.name=from-attrs,k=v",
		    "OTEL_SERVICE_NAME=from-env"));
	CHECK_INT(otlp_config__from_env(&cfg, NULL, NULL, NULL), 0);
	CHECK_STR(cfg.service_name, "from-env");
	CHECK(cfg.resource_attrs && cfg.resource_attrs[0] && !cfg.resource_attrs[2]);
	if (cfg.resource_attrs && cfg.resource_attrs[0])
		CHECK_STR(cfg.resource_attrs[0], "k");
	otlp_config__release(&cfg);

	/* and the flag wins over OTEL_SERVICE_NAME */
	CHECK_INT(otlp_config__from_env(&cfg, NULL, NULL, "from-flag"), 0);
	CHECK_STR(cfg.service_name, "from-flag");
	otlp_config__release(&cfg);

	/* a decoding error drops the whole value, with a warning, not an error */
	set_env(ENV("OTEL_RESOURCE_ATTRIBUTES=good=1,bad=%4", "OTEL_SERVICE_NAME=svc"));
	CHECK_INT(otlp_config__from_env(&cfg, NULL, NULL, NULL), 0);
	CHECK(cfg.resource_attrs == NULL);
	CHECK_STR(cfg.service_name, "svc");
	otlp_config__release(&cfg);
	set_env(NULL);
}

static void test_kv_list_table(void)
{
	const struct {
		const char *in;
		int err;
		const char *want[7]; /* header lines */
	} rows[] = {
		{ "", 0, { NULL } },
		{ "a=1", 0, { "a: 1" } },
		{ " a = 1 , b=2", 0, { "a: 1", "b: 2" } },
		{ "a=1,,b=2,", 0, { "a: 1", "b: 2" } },
		{ "auth=Basic%20dXNlcjpwYXNz", 0, { "auth: Basic dXNlcjpwYXNz" } },
		{ "k=a=b", 0, { "k: a=b" } },        /* only the first '=' splits */
		{ "k=", 0, { "k: " } },
		{ "k=%E2%9C%93", 0, { "k: \xe2\x9c\x93" } },
		{ "novalue", -EINVAL, { NULL } },
		{ "=v", -EINVAL, { NULL } },
		{ "k=%4", -EINVAL, { NULL } },
		{ "k=%GG", -EINVAL, { NULL } },
		{ "k=%00", -EINVAL, { NULL } },
		{ "a=b%0D%0AX-Injected: 1", -EINVAL, { NULL } }, /* header smuggling */
		{ "a=b%0A", -EINVAL, { NULL } },
		{ "a=b%09c", 0, { "a: b\tc" } },
		{ "a b=1", -EINVAL, { NULL } },
		{ "a:b=1", -EINVAL, { NULL } },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char **out = NULL;
		size_t n = 0;
		int err = otlp_parse_kv_list(rows[i].in, true, &out);

		CHECK_INT(err, rows[i].err);
		for (; out && out[n]; n++)
			CHECK_STR(out[n], rows[i].want[n]);
		CHECK(rows[i].want[n] == NULL);
		for (size_t k = 0; out && out[k]; k++)
			free(out[k]);
		free(out);
	}
}

static void test_endpoint_resolve(void)
{
	char *out = NULL;

	CHECK_INT(otlp_endpoint_resolve(OTLP_HTTP_PROTOBUF, "http://h:1/a/", NULL, false, &out), 0);
	CHECK_STR(out, "http://h:1/a/v1/traces");
	free(out);
	CHECK_INT(otlp_endpoint_resolve(OTLP_GRPC, NULL, "h:4317", false, &out), 0);
	CHECK_STR(out, "https://h:4317");
	free(out);
	CHECK_INT(otlp_endpoint_resolve(OTLP_HTTP_PROTOBUF, NULL, "h:4318", false, &out), -EINVAL);
	CHECK(out == NULL);
}

int main(void)
{
	unit_prog = "otlp_env";
	RUN(test_endpoint_table);
	RUN(test_defaults);
	RUN(test_values);
	RUN(test_bad_values);
	RUN(test_resource_attributes);
	RUN(test_kv_list_table);
	RUN(test_endpoint_resolve);
	return unit_exit();
}
