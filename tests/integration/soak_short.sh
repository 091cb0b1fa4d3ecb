#!/usr/bin/env bash
# A 30-second bench/soak.sh: demo-app with 8 threads at full speed under
# spanprobe exporting to the real Collector. Passes when spanprobe's RSS did
# not grow by more than 8 MiB after the warm-up (first third) and its summary
# accounts for every span (received = OTLP exported + dropped).
export TEST_NAME=soak_short
exec env SOAK_MINUTES=${SOAK_MINUTES:-0.5} SOAK_SAMPLE_SECONDS=${SOAK_SAMPLE_SECONDS:-5} \
	SOAK_RSS_SLACK_MIB=${SOAK_RSS_SLACK_MIB:-8} "$(dirname "$0")/../../bench/soak.sh"
