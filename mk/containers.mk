# Real containers (podman + runc), no cluster: deploy/'s pods played on this
# host. Included by the Makefile.
#   make container-images   the base, spanprobe, demo-app and peer images
#   make container-demo     deploy/ as pods, traces read back from Jaeger

.PHONY: container-images container-demo
container-images: test-deps
	@scripts/container-images.sh all peers

container-demo: test-deps
	@$(MAKE) --no-print-directory build-all
	@scripts/container-demo.sh
