# shellcheck shell=bash
# The cluster's credentials (scripts/cluster.sh up), made fresh for each
# cluster: a CA, the API server's serving certificate and its client
# certificate for the kubelet's API (logs, exec), the ServiceAccount signing
# key, a static token per component and the kubeconfigs that carry them.

# cert NAME SUBJECT [SAN]: NAME.key and NAME.crt signed by the cluster's CA.
cert() {
	local name=$1 subj=$2 san=${3:-}
	openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$name.key" \
		-subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
	{
		echo "basicConstraints=CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		if [ -n "$san" ]; then
			echo "extendedKeyUsage=serverAuth"
			echo "subjectAltName=$san"
		else
			echo "extendedKeyUsage=clientAuth"
		fi
	} >"$PKI/$name.ext"
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
		-CAcreateserial -days 30 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
	rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

# kubeconfig FILE USER TOKEN
kubeconfig() {
	local file=$1 user=$2 token=$3
	"$KUBECTL" config --kubeconfig="$file" set-cluster spanprobe \
		--server="https://$NODE_IP:$API_PORT" --certificate-authority="$PKI/ca.crt" \
		--embed-certs=true >/dev/null
	"$KUBECTL" config --kubeconfig="$file" set-credentials "$user" --token="$token" >/dev/null
	"$KUBECTL" config --kubeconfig="$file" set-context spanprobe --cluster=spanprobe \
		--user="$user" >/dev/null
	"$KUBECTL" config --kubeconfig="$file" use-context spanprobe >/dev/null
}

pki_make() {
	local name user group token
	mkdir -p "$PKI"
	chmod 700 "$PKI"
	openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -days 30 \
		-subj "/CN=spanprobe-cluster-ca" -out "$PKI/ca.crt" 2>/dev/null
	cert apiserver "/CN=kube-apiserver" \
		"IP:127.0.0.1,IP:$NODE_IP,IP:$API_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
	# system:masters: the kubelet's webhook authorizer lets it read logs
	cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
	openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
	openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
	: >"$PKI/tokens.csv"
	# NAME USER GROUP: users and groups the API server's bootstrap RBAC (and
	# the Node authorizer, for the kubelet) already grant what each needs.
	while read -r name user group; do
		token=$(openssl rand -hex 24)
		echo "$token,$user,uid-$name${group:+,\"$group\"}" >>"$PKI/tokens.csv"
		kubeconfig "$RUN/$name.kubeconfig" "$user" "$token"
	done <<-USERS
		admin admin system:masters
		kubelet system:node:$NODE_NAME system:nodes
		controller-manager system:kube-controller-manager
		scheduler system:kube-scheduler
		proxy system:kube-proxy
	USERS
	chmod 600 "$RUN"/*.kubeconfig
}
