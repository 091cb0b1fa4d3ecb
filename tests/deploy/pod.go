package main

// deploy-check pod: a workload's pod template, rendered from deploy/ by
// kustomize's library, as a plain Pod with the ConfigMaps it mounts, for a
// container runtime that plays Pods but has no controllers (podman kube play
// has no DaemonSet). The spec is the template's, unchanged, except what the
// cluster would supply and a single host can't:
//   --node NODE          the downward API's spec.nodeName (the kubelet fills it)
//   --host-alias H=IP    /etc/hosts entries standing in for Service DNS names
//   --name POD           the Pod's name (default: the workload's), for replicas
//   --drop-ports         no containerPorts: on a node they publish nothing, but
//                        podman 4.3 publishes each on the host, where other pods'
//                        and programs' ports collide; probes' named ports are
//                        resolved to numbers first, as the kubelet does
// Always: each securityContext.seccompProfile is also written as the
// annotation Kubernetes used before the field (kubelets kept both in step up to
// 1.26); podman 4.3 reads only the annotation and silently applies its default
// profile otherwise.

import (
	"fmt"
	"os"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

type podOptions struct {
	name      string
	node      string
	dropPorts bool
	aliases   map[string][]string // IP -> host names
}

func parsePodOptions(args []string) (podOptions, error) {
	o := podOptions{aliases: map[string][]string{}}
	for i := 0; i < len(args); i++ {
		if args[i] == "--drop-ports" {
			o.dropPorts = true
			continue
		}
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

// numberedPort resolves a probe's named port against the container's ports.
func numberedPort(ctr *corev1.Container, port *intstr.IntOrString) error {
	if port.Type != intstr.String {
		return nil
	}
	for _, p := range ctr.Ports {
		if p.Name == port.StrVal {
			*port = intstr.FromInt32(p.ContainerPort)
			return nil
		}
	}
	return fmt.Errorf("container %s: a probe names port %q, which it does not declare",
		ctr.Name, port.StrVal)
}

// dropPorts removes the containers' ports, probes' named ports numbered first.
func dropPorts(spec *corev1.PodSpec) error {
	for i := range spec.Containers {
		ctr := &spec.Containers[i]
		for _, probe := range []*corev1.Probe{ctr.ReadinessProbe, ctr.LivenessProbe, ctr.StartupProbe} {
			if probe == nil {
				continue
			}
			if probe.TCPSocket != nil {
				if err := numberedPort(ctr, &probe.TCPSocket.Port); err != nil {
					return err
				}
			}
			if probe.HTTPGet != nil {
				if err := numberedPort(ctr, &probe.HTTPGet.Port); err != nil {
					return err
				}
			}
		}
		ctr.Ports = nil
	}
	return nil
}

// seccompAnnotation: a seccompProfile in the annotations' notation.
func seccompAnnotation(p *corev1.SeccompProfile) string {
	switch p.Type {
	case corev1.SeccompProfileTypeRuntimeDefault:
		return "runtime/default"
	case corev1.SeccompProfileTypeUnconfined:
		return "unconfined"
	case corev1.SeccompProfileTypeLocalhost:
		if p.LocalhostProfile != nil {
			return "localhost/" + *p.LocalhostProfile
		}
	}
	return ""
}

func annotateSeccomp(pod *corev1.Pod) {
	set := func(k string, p *corev1.SeccompProfile) {
		if v := seccompAnnotation(p); v != "" {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[k] = v
		}
	}
	if sc := pod.Spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		set("seccomp.security.alpha.kubernetes.io/pod", sc.SeccompProfile)
	}
	for _, c := range pod.Spec.Containers {
		if c.SecurityContext != nil && c.SecurityContext.SeccompProfile != nil {
			set("container.seccomp.security.alpha.kubernetes.io/"+c.Name, c.SecurityContext.SeccompProfile)
		}
	}
}

// podFromTemplate: the Pod a kubelet would run for workload ref, with opts.
func podFromTemplate(objs *objects, ref string, opts podOptions) (*corev1.Pod, error) {
	tmpl, err := podTemplate(objs, ref)
	if err != nil {
		return nil, err
	}
	ns, name, _ := strings.Cut(ref, "/")
	if opts.name != "" {
		name = opts.name
	}
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: tmpl.Labels},
		Spec:       *tmpl.Spec.DeepCopy(),
	}
	for k, v := range tmpl.Annotations {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[k] = v
	}
	annotateSeccomp(pod)
	if opts.node != "" {
		resolveNodeName(&pod.Spec, opts.node)
	}
	if opts.dropPorts {
		if err := dropPorts(&pod.Spec); err != nil {
			return nil, err
		}
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
	return pod, nil
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
	pod, err := podFromTemplate(objs, ref, opts)
	if err != nil {
		return err
	}
	var out []byte
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap == nil {
			continue
		}
		cm := objs.configMaps[key(pod.Namespace, v.ConfigMap.Name)]
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
	doc, err := yaml.Marshal(pod)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(out, doc...))
	return err
}
