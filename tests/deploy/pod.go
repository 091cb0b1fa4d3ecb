package main

// deploy-check pod: a workload's pod template, rendered from deploy/ by
// kustomize's library, as a plain Pod with the ConfigMaps it mounts, for a
// container runtime that plays Pods but has no controllers (podman kube play
// has no DaemonSet). The spec is the template's, unchanged, except what the
// cluster would supply and a single host can't:
//   --node NODE          the downward API's spec.nodeName (the kubelet fills it)
//   --host-alias H=IP    /etc/hosts entries standing in for Service DNS names
//   --name POD           the Pod's name (default: the workload's), for replicas

import (
	"fmt"
	"os"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

type podOptions struct {
	name    string
	node    string
	aliases map[string][]string // IP -> host names
}

func parsePodOptions(args []string) (podOptions, error) {
	o := podOptions{aliases: map[string][]string{}}
	for i := 0; i < len(args); i++ {
		if i+1 >= len(args) {
			return o, fmt.Errorf("%s needs a value", args[i])
		}
		v := args[i+1]
		switch args[i] {
		case "--name":
			o.name = v
		case "--node":
			o.node = v
		case "--host-alias":
			host, ip, ok := strings.Cut(v, "=")
			if !ok || host == "" || ip == "" {
				return o, fmt.Errorf("--host-alias wants HOST=IP, got %q", v)
			}
			o.aliases[ip] = append(o.aliases[ip], host)
		default:
			return o, fmt.Errorf("unknown option %s", args[i])
		}
		i++
	}
	return o, nil
}

// podTemplate finds the DaemonSet or Deployment NAMESPACE/NAME.
func podTemplate(objs *objects, ref string) (*corev1.PodTemplateSpec, error) {
	if ds := objs.daemonSets[ref]; ds != nil {
		return &ds.Spec.Template, nil
	}
	if d := objs.deployments[ref]; d != nil {
		return &d.Spec.Template, nil
	}
	return nil, fmt.Errorf("no DaemonSet or Deployment %s in the rendered manifests", ref)
}

// resolveNodeName replaces the downward API's spec.nodeName by its value, as
// the kubelet does; other downward-API fields are left to the runtime.
func resolveNodeName(spec *corev1.PodSpec, node string) {
	for i := range spec.Containers {
		for j := range spec.Containers[i].Env {
			e := &spec.Containers[i].Env[j]
			if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
				e.ValueFrom.FieldRef.FieldPath == "spec.nodeName" {
				e.Value, e.ValueFrom = node, nil
			}
		}
	}
}

func printPod(root, overlay, ref string, args []string) error {
	opts, err := parsePodOptions(args)
	if err != nil {
		return err
	}
	objs, err := renderedObjects(root, overlay)
	if err != nil {
		return err
	}
	tmpl, err := podTemplate(objs, ref)
	if err != nil {
		return err
	}
	ns, name, _ := strings.Cut(ref, "/")
	if opts.name != "" {
		name = opts.name
	}
	pod := corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: tmpl.Labels,
			Annotations: tmpl.Annotations},
		Spec: *tmpl.Spec.DeepCopy(),
	}
	if opts.node != "" {
		resolveNodeName(&pod.Spec, opts.node)
	}
	ips := make([]string, 0, len(opts.aliases))
	for ip := range opts.aliases {
		ips = append(ips, ip)
	}
	sort.Strings(ips)
	for _, ip := range ips {
		pod.Spec.HostAliases = append(pod.Spec.HostAliases,
			corev1.HostAlias{IP: ip, Hostnames: opts.aliases[ip]})
	}
	var out []byte
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap == nil {
			continue
		}
		cm := objs.configMaps[key(ns, v.ConfigMap.Name)]
		if cm == nil {
			return fmt.Errorf("%s mounts ConfigMap %s, which is not in the rendered manifests",
				ref, v.ConfigMap.Name)
		}
		doc, err := yaml.Marshal(cm)
		if err != nil {
			return err
		}
		out = append(append(out, doc...), "---\n"...)
	}
	doc, err := yaml.Marshal(&pod)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(out, doc...))
	return err
}
