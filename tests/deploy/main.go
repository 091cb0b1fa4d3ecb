// deploy-check: checks spanprobe's Kubernetes manifests without a cluster.
//
// It renders deploy/ and deploy/production/ with kustomize's own library
// (krusty, as `kubectl apply -k` does), decodes every rendered object and
// every YAML file under deploy/ strictly into its official Kubernetes API
// type (unknown fields and unknown kinds fail), and checks the promises the
// deployment makes: the services the exercise names, spanprobe's DaemonSet
// privileges, probes and shutdown budget, and ConfigMaps equal to their files.
//
// Usage:
//
//	deploy-check check ROOT PREFIX
//	    prints "PASS PREFIX.name" or "FAIL PREFIX.name: why" lines, exits 1 on a failure
//	deploy-check pod ROOT OVERLAY NAMESPACE/NAME [--name POD] [--node NODE] [--drop-ports] [--host-alias HOST=IP]...
//	    prints a DaemonSet's or Deployment's pod template as a plain Pod with
//	    the ConfigMaps it mounts (pod.go), for `podman kube play`
//	deploy-check run ROOT OVERLAY NAMESPACE/NAME [pod's options] [--workdir DIR] [--seccomp-root DIR]
//	    prints that pod's `podman run` arguments, one a line (pod_run.go), for
//	    what `podman kube play` 4.3 plays wrongly (hostPID)
//	deploy-check env ROOT OVERLAY DEPLOYMENT CONTAINER
//	    prints the container's environment as NAME=VALUE lines (values taken
//	    from Secrets or the downward API print as "placeholder"), so a config
//	    can be validated with the environment the cluster would give it
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const (
	collectorEndpoint = "otel-collector.opentelemetry.svc.cluster.local:4317"
	otelNamespace     = "opentelemetry"
	demoNamespace     = "demo"
)

// overlays: the kustomizations under deploy/ that are applied, and whether
// each may read files above its own directory (kustomize's load restrictor).
var overlays = []struct {
	dir          string
	loadAnywhere bool
}{
	{"deploy", false},
	{"deploy/production", true},
}

type checker struct {
	prefix string
	failed bool
}

func (c *checker) pass(name string) { fmt.Printf("PASS %s.%s\n", c.prefix, name) }
func (c *checker) fail(name, format string, args ...any) {
	c.failed = true
	fmt.Printf("FAIL %s.%s: %s\n", c.prefix, name, fmt.Sprintf(format, args...))
}

// expect records one check: PASS when problems is empty.
func (c *checker) expect(name string, problems []string) {
	if len(problems) == 0 {
		c.pass(name)
	} else {
		c.fail(name, "%s", strings.Join(problems, "; "))
	}
}

// objects: one rendered kustomization, decoded.
type objects struct {
	namespaces   map[string]*corev1.Namespace
	configMaps   map[string]*corev1.ConfigMap
	services     map[string]*corev1.Service
	accounts     map[string]*corev1.ServiceAccount
	deployments  map[string]*appsv1.Deployment
	daemonSets   map[string]*appsv1.DaemonSet
	roles        map[string]*rbacv1.ClusterRole
	roleBindings map[string]*rbacv1.ClusterRoleBinding
	hpas         map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs         map[string]*policyv1.PodDisruptionBudget
}

func newObjects() *objects {
	return &objects{
		namespaces:   map[string]*corev1.Namespace{},
		configMaps:   map[string]*corev1.ConfigMap{},
		services:     map[string]*corev1.Service{},
		accounts:     map[string]*corev1.ServiceAccount{},
		deployments:  map[string]*appsv1.Deployment{},
		daemonSets:   map[string]*appsv1.DaemonSet{},
		roles:        map[string]*rbacv1.ClusterRole{},
		roleBindings: map[string]*rbacv1.ClusterRoleBinding{},
		hpas:         map[string]*autoscalingv2.HorizontalPodAutoscaler{},
		pdbs:         map[string]*policyv1.PodDisruptionBudget{},
	}
}

func key(namespace, name string) string { return namespace + "/" + name }

// decodeStrict decodes one YAML document into the API type of its kind,
// rejecting unknown and duplicate fields, an unexpected apiVersion and unknown
// kinds. With into == nil the object is only checked.
func decodeStrict(doc []byte, into *objects) (string, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return "", err
	}
	var obj any
	var wantVersion string
	var store func(ns, name string)
	switch head.Kind {
	case "Namespace":
		o := &corev1.Namespace{}
		obj, wantVersion = o, "v1"
		store = func(ns, name string) { into.namespaces[name] = o }
	case "ConfigMap":
		o := &corev1.ConfigMap{}
		obj, wantVersion = o, "v1"
		store = func(ns, name string) { into.configMaps[key(ns, name)] = o }
	case "Secret":
		obj, wantVersion = &corev1.Secret{}, "v1"
	case "Service":
		o := &corev1.Service{}
		obj, wantVersion = o, "v1"
		store = func(ns, name string) { into.services[key(ns, name)] = o }
	case "ServiceAccount":
		o := &corev1.ServiceAccount{}
		obj, wantVersion = o, "v1"
		store = func(ns, name string) { into.accounts[key(ns, name)] = o }
	case "Deployment":
		o := &appsv1.Deployment{}
		obj, wantVersion = o, "apps/v1"
		store = func(ns, name string) { into.deployments[key(ns, name)] = o }
	case "DaemonSet":
		o := &appsv1.DaemonSet{}
		obj, wantVersion = o, "apps/v1"
		store = func(ns, name string) { into.daemonSets[key(ns, name)] = o }
	case "StatefulSet":
		obj, wantVersion = &appsv1.StatefulSet{}, "apps/v1"
	case "ClusterRole":
		o := &rbacv1.ClusterRole{}
		obj, wantVersion = o, "rbac.authorization.k8s.io/v1"
		store = func(ns, name string) { into.roles[name] = o }
	case "ClusterRoleBinding":
		o := &rbacv1.ClusterRoleBinding{}
		obj, wantVersion = o, "rbac.authorization.k8s.io/v1"
		store = func(ns, name string) { into.roleBindings[name] = o }
	case "Role":
		obj, wantVersion = &rbacv1.Role{}, "rbac.authorization.k8s.io/v1"
	case "RoleBinding":
		obj, wantVersion = &rbacv1.RoleBinding{}, "rbac.authorization.k8s.io/v1"
	case "HorizontalPodAutoscaler":
		o := &autoscalingv2.HorizontalPodAutoscaler{}
		obj, wantVersion = o, "autoscaling/v2"
		store = func(ns, name string) { into.hpas[key(ns, name)] = o }
	case "PodDisruptionBudget":
		o := &policyv1.PodDisruptionBudget{}
		obj, wantVersion = o, "policy/v1"
		store = func(ns, name string) { into.pdbs[key(ns, name)] = o }
	case "":
		return "", errors.New("no kind")
	default:
		return head.Kind, fmt.Errorf("unknown kind %q (add its API type to deploy-check)", head.Kind)
	}
	if head.APIVersion != wantVersion {
		return head.Kind, fmt.Errorf("%s has apiVersion %q, want %q", head.Kind, head.APIVersion, wantVersion)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return head.Kind, fmt.Errorf("%s: %v", head.Kind, err)
	}
	if into != nil && store != nil {
		var meta struct {
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		_ = yaml.Unmarshal(doc, &meta)
		store(meta.Metadata.Namespace, meta.Metadata.Name)
	}
	return head.Kind, nil
}

// splitDocs splits a multi-document YAML stream, dropping empty documents.
func splitDocs(data []byte) ([][]byte, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		var probe map[string]any
		if err := yaml.Unmarshal(doc, &probe); err != nil {
			return nil, err
		}
		if len(probe) > 0 {
			docs = append(docs, doc)
		}
	}
}

func render(root, dir string, loadAnywhere bool) ([]byte, error) {
	opts := krusty.MakeDefaultOptions()
	if loadAnywhere {
		opts.LoadRestrictions = types.LoadRestrictionsNone
	}
	resources, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), filepath.Join(root, dir))
	if err != nil {
		return nil, err
	}
	return resources.AsYaml()
}

// readKustomization decodes a kustomization.yaml strictly into kustomize's type.
func readKustomization(path string) (*types.Kustomization, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k := &types.Kustomization{}
	if err := yaml.UnmarshalStrict(data, k); err != nil {
		return nil, err
	}
	if k.Kind != types.KustomizationKind || k.APIVersion != types.KustomizationVersion {
		return nil, fmt.Errorf("kind %q apiVersion %q, want %s %s", k.Kind, k.APIVersion,
			types.KustomizationKind, types.KustomizationVersion)
	}
	return k, nil
}

// generatorFile: the path of a configMapGenerator "files" entry ("key=path" or "path").
func generatorFile(dir, entry string) (keyName, path string) {
	keyName, path, found := strings.Cut(entry, "=")
	if !found {
		path = entry
		keyName = filepath.Base(entry)
	}
	return keyName, filepath.Clean(filepath.Join(dir, path))
}

// checkFiles decodes every YAML file under deploy/: kustomizations into
// kustomize's type, generator inputs (configs, not manifests) are skipped,
// everything else into its Kubernetes type.
func checkFiles(c *checker, root string) {
	deployDir := filepath.Join(root, "deploy")
	configs := map[string]bool{}
	var files []string
	err := filepath.WalkDir(deployDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		files = append(files, path)
		if filepath.Base(path) == "kustomization.yaml" {
			k, err := readKustomization(path)
			if err != nil {
				return nil // reported below
			}
			for _, g := range k.ConfigMapGenerator {
				for _, f := range g.FileSources {
					_, p := generatorFile(filepath.Dir(path), f)
					configs[p] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		c.fail("files", "walking deploy/: %v", err)
		return
	}
	sort.Strings(files)
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		name := "file." + rel
		switch {
		case filepath.Base(path) == "kustomization.yaml":
			if _, err := readKustomization(path); err != nil {
				c.fail(name, "not a strict Kustomization: %v", err)
			} else {
				c.pass(name)
			}
		case configs[path]:
			// A config file turned into a ConfigMap; checked against the ConfigMap below.
		default:
			data, err := os.ReadFile(path)
			if err != nil {
				c.fail(name, "%v", err)
				continue
			}
			docs, err := splitDocs(data)
			if err != nil {
				c.fail(name, "YAML: %v", err)
				continue
			}
			var problems []string
			if len(docs) == 0 {
				problems = append(problems, "no documents")
			}
			for i, doc := range docs {
				if _, err := decodeStrict(doc, newObjects()); err != nil {
					problems = append(problems, fmt.Sprintf("document %d: %v", i+1, err))
				}
			}
			c.expect(name, problems)
		}
	}
}

func findContainer(spec *corev1.PodSpec, name string) *corev1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	return nil
}

func envValue(ctr *corev1.Container, name string) (corev1.EnvVar, int, bool) {
	for i, e := range ctr.Env {
		if e.Name == name {
			return e, i, true
		}
	}
	return corev1.EnvVar{}, -1, false
}

// configMapFor: the ConfigMap behind the volume mounted at mountPath.
func configMapFor(objs *objects, ns string, spec *corev1.PodSpec, ctr *corev1.Container, mountPath string) (*corev1.ConfigMap, error) {
	for _, m := range ctr.VolumeMounts {
		if m.MountPath != mountPath {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				cm := objs.configMaps[key(ns, v.ConfigMap.Name)]
				if cm == nil {
					return nil, fmt.Errorf("volume %s names ConfigMap %s, which the render lacks", v.Name, v.ConfigMap.Name)
				}
				return cm, nil
			}
		}
		return nil, fmt.Errorf("mount %s is not a ConfigMap volume", mountPath)
	}
	return nil, fmt.Errorf("nothing mounted at %s", mountPath)
}

// checkConfigEqualsFile: the ConfigMap mounted at dir holds file (under its
// base name) byte for byte.
func checkConfigEqualsFile(objs *objects, ns string, spec *corev1.PodSpec, ctr *corev1.Container, dir, file string) []string {
	want, err := os.ReadFile(file)
	if err != nil {
		return []string{err.Error()}
	}
	cm, err := configMapFor(objs, ns, spec, ctr, dir)
	if err != nil {
		return []string{err.Error()}
	}
	got, ok := cm.Data[filepath.Base(file)]
	if !ok {
		return []string{fmt.Sprintf("ConfigMap %s has no key %s", cm.Name, filepath.Base(file))}
	}
	if got != string(want) {
		return []string{fmt.Sprintf("ConfigMap %s's %s differs from %s", cm.Name, filepath.Base(file), file)}
	}
	return nil
}

func labelsMatch(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func servicePorts(svc *corev1.Service) map[int32]bool {
	ports := map[int32]bool{}
	for _, p := range svc.Spec.Ports {
		ports[p.Port] = true
	}
	return ports
}

// spanprobeConf reads deploy/spanprobe.conf as spanprobe does: "key value",
// "key = value" or "key=value" lines, # comments.
func spanprobeConf(path string) (map[string][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	conf := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v := line, ""
		if i := strings.IndexAny(line, " \t="); i >= 0 {
			k, v = line[:i], strings.TrimSpace(line[i+1:])
			v = strings.TrimSpace(strings.TrimPrefix(v, "="))
		}
		conf[k] = append(conf[k], v)
	}
	return conf, nil
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkRender checks one rendered kustomization.
func checkRender(c *checker, root, dir string, loadAnywhere bool) {
	base := strings.TrimPrefix(strings.ReplaceAll(dir, "/", "."), "deploy.")
	if base == "deploy" {
		base = "demo"
	}
	name := func(check string) string { return base + "." + check }

	rendered, err := render(root, dir, loadAnywhere)
	if err != nil {
		c.fail(name("kustomize_build"), "%v", err)
		return
	}
	c.pass(name("kustomize_build"))

	objs := newObjects()
	docs, err := splitDocs(rendered)
	if err != nil {
		c.fail(name("strict_decode"), "rendered YAML: %v", err)
		return
	}
	var problems []string
	for i, doc := range docs {
		if kind, err := decodeStrict(doc, objs); err != nil {
			problems = append(problems, fmt.Sprintf("object %d (%s): %v", i+1, kind, err))
		}
	}
	if len(docs) == 0 {
		problems = append(problems, "no objects")
	}
	c.expect(name("strict_decode"), problems)

	// Namespaces and the services the exercise names.
	problems = nil
	for _, ns := range []string{otelNamespace, demoNamespace} {
		if objs.namespaces[ns] == nil {
			problems = append(problems, "no Namespace "+ns)
		}
	}
	c.expect(name("namespaces"), problems)

	problems = nil
	for _, want := range []struct {
		svc   string
		ports []int32
	}{{"jaeger", []int32{4317, 4318}}, {"otel-collector", []int32{4317, 4318}}, {"jaeger-service", []int32{16686}}} {
		svc := objs.services[key(otelNamespace, want.svc)]
		if svc == nil {
			problems = append(problems, fmt.Sprintf("no Service %s in %s", want.svc, otelNamespace))
			continue
		}
		ports := servicePorts(svc)
		for _, p := range want.ports {
			if !ports[p] {
				problems = append(problems, fmt.Sprintf("Service %s lacks port %d", want.svc, p))
			}
		}
	}
	if svc := objs.services[key(otelNamespace, "jaeger-service")]; svc != nil && svc.Spec.Type != corev1.ServiceTypeNodePort {
		problems = append(problems, fmt.Sprintf("jaeger-service is %q, want NodePort", svc.Spec.Type))
	}
	c.expect(name("services"), problems)

	// Every Service selects the pods of some workload in its namespace, and
	// every workload's selector matches its own pod template.
	problems = nil
	type workload struct {
		ns       string
		selector map[string]string
		labels   map[string]string
	}
	var workloads []workload
	for k, d := range objs.deployments {
		workloads = append(workloads, workload{d.Namespace, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels})
		if !labelsMatch(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			problems = append(problems, "Deployment "+k+": selector does not match its pod labels")
		}
	}
	for k, d := range objs.daemonSets {
		workloads = append(workloads, workload{d.Namespace, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels})
		if !labelsMatch(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			problems = append(problems, "DaemonSet "+k+": selector does not match its pod labels")
		}
	}
	for k, svc := range objs.services {
		found := false
		for _, w := range workloads {
			if w.ns == svc.Namespace && labelsMatch(svc.Spec.Selector, w.labels) {
				found = true
			}
		}
		if !found {
			problems = append(problems, "Service "+k+" selects no workload's pods")
		}
	}
	c.expect(name("selectors"), problems)

	// Jaeger v2 and the collector.
	problems = nil
	jaeger := objs.deployments[key(otelNamespace, "jaeger")]
	if jaeger == nil {
		problems = append(problems, "no Deployment jaeger")
	} else if ctr := findContainer(&jaeger.Spec.Template.Spec, "jaeger"); ctr == nil {
		problems = append(problems, "Deployment jaeger has no container jaeger")
	} else if !strings.HasPrefix(ctr.Image, "jaegertracing/jaeger:2.") {
		problems = append(problems, "jaeger image "+ctr.Image+" is not Jaeger v2")
	}
	c.expect(name("jaeger"), problems)

	problems = nil
	collector := objs.deployments[key(otelNamespace, "otel-collector")]
	if collector == nil {
		problems = append(problems, "no Deployment otel-collector")
	} else if ctr := findContainer(&collector.Spec.Template.Spec, "otel-collector"); ctr == nil {
		problems = append(problems, "Deployment otel-collector has no container otel-collector")
	} else {
		if !strings.HasPrefix(ctr.Image, "otel/opentelemetry-collector:") &&
			!strings.HasPrefix(ctr.Image, "otel/opentelemetry-collector-contrib:") {
			problems = append(problems, "collector image "+ctr.Image)
		}
		if !hasString(ctr.Args, "--config=/etc/otel-collector/otel-collector.yaml") {
			problems = append(problems, fmt.Sprintf("collector args %v do not name the mounted config", ctr.Args))
		}
		if e, _, ok := envValue(ctr, "OTELCOL_JAEGER_ENDPOINT"); ok && e.Value != "jaeger:4317" &&
			e.Value != "jaeger."+otelNamespace+".svc.cluster.local:4317" {
			problems = append(problems, "collector exports to "+e.Value+", not Jaeger's 4317")
		}
		problems = append(problems, checkConfigEqualsFile(objs, otelNamespace, &collector.Spec.Template.Spec, ctr,
			"/etc/otel-collector", filepath.Join(root, "deploy/otel-collector.yaml"))...)
	}
	c.expect(name("collector_config_is_file"), problems)

	checkSpanprobe(c, root, objs, name)

	problems = nil
	demo := objs.deployments[key(demoNamespace, "demo-app")]
	conf, confErr := spanprobeConf(filepath.Join(root, "deploy/spanprobe.conf"))
	switch {
	case demo == nil:
		problems = append(problems, "no Deployment demo-app in "+demoNamespace)
	case confErr != nil:
		problems = append(problems, confErr.Error())
	case len(demo.Spec.Template.Spec.Containers) != 1 || len(demo.Spec.Template.Spec.InitContainers) != 0:
		problems = append(problems, "demo-app has sidecars or init containers")
	default:
		ctr := demo.Spec.Template.Spec.Containers[0]
		if ctr.Image != "spanprobe/demo-app:latest" {
			problems = append(problems, "demo-app image "+ctr.Image)
		}
		if len(ctr.Command) == 0 {
			problems = append(problems, "demo-app has no command")
		} else {
			traced := false
			for _, p := range conf["probe"] {
				if strings.HasPrefix(p, "uprobe:"+ctr.Command[0]+":") {
					traced = true
				}
			}
			if !traced {
				problems = append(problems, fmt.Sprintf("spanprobe.conf's probes %v do not trace %s", conf["probe"], ctr.Command[0]))
			}
			// With a namespace selection, the demo's namespace must be chosen.
			if ns := conf["namespace"]; len(ns) > 0 && !hasString(ns, demo.Namespace) {
				problems = append(problems, fmt.Sprintf("spanprobe.conf chooses namespaces %v, not demo-app's %s", ns, demo.Namespace))
			}
		}
		if ctr.ImagePullPolicy == corev1.PullAlways {
			problems = append(problems, "demo-app pulls Always: an image built into the cluster would not be used")
		}
	}
	c.expect(name("demo_app_traced_untouched"), problems)

	if dir == "deploy/production" {
		checkProduction(c, root, objs, name)
	}
}

// checkSeccompProfile: a Localhost profile is shipped in deploy/seccomp/ and
// lets through the calls spanprobe can't work without; RuntimeDefault is
// refused (CRI-O's and podman's default profiles block bpf() without
// CAP_SYS_ADMIN), Unconfined too.
func checkSeccompProfile(root string, sc *corev1.SecurityContext) []string {
	if sc == nil || sc.SeccompProfile == nil {
		return []string{"no securityContext.seccompProfile"}
	}
	p := sc.SeccompProfile
	if p.Type != corev1.SeccompProfileTypeLocalhost || p.LocalhostProfile == nil {
		return []string{fmt.Sprintf("seccompProfile %s, want Localhost (deploy/seccomp/)", p.Type)}
	}
	data, err := os.ReadFile(filepath.Join(root, "deploy/seccomp", *p.LocalhostProfile))
	if err != nil {
		return []string{err.Error()}
	}
	var profile struct {
		DefaultAction string `json:"defaultAction"`
		Syscalls      []struct {
			Names  []string `json:"names"`
			Action string   `json:"action"`
		} `json:"syscalls"`
	}
	if err := json.Unmarshal(data, &profile); err != nil {
		return []string{"deploy/seccomp/" + *p.LocalhostProfile + ": " + err.Error()}
	}
	var problems []string
	if profile.DefaultAction != "SCMP_ACT_ERRNO" {
		problems = append(problems, "defaultAction "+profile.DefaultAction+", want SCMP_ACT_ERRNO")
	}
	allowed := map[string]bool{}
	for _, rule := range profile.Syscalls {
		for _, n := range rule.Names {
			allowed[n] = allowed[n] || rule.Action == "SCMP_ACT_ALLOW"
		}
	}
	for _, want := range []string{"bpf", "perf_event_open", "execve"} {
		if !allowed[want] {
			problems = append(problems, "the profile does not allow "+want)
		}
	}
	return problems
}

func checkSpanprobe(c *checker, root string, objs *objects, name func(string) string) {
	ds := objs.daemonSets[key(otelNamespace, "spanprobe")]
	if ds == nil {
		c.fail(name("spanprobe_daemonset"), "no DaemonSet spanprobe in %s", otelNamespace)
		return
	}
	spec := &ds.Spec.Template.Spec
	ctr := findContainer(spec, "spanprobe")
	if ctr == nil {
		c.fail(name("spanprobe_daemonset"), "DaemonSet spanprobe has no container spanprobe")
		return
	}
	c.pass(name("spanprobe_daemonset"))

	var problems []string
	if !spec.HostPID {
		problems = append(problems, "hostPID is not true")
	}
	sc := ctr.SecurityContext
	if sc == nil || sc.Capabilities == nil {
		problems = append(problems, "no securityContext.capabilities")
	} else {
		add := map[corev1.Capability]bool{}
		for _, capability := range sc.Capabilities.Add {
			add[capability] = true
		}
		for _, want := range []corev1.Capability{"BPF", "PERFMON", "SYS_PTRACE"} {
			if !add[want] {
				problems = append(problems, "capabilities lack "+string(want))
			}
		}
		if add["SYS_ADMIN"] || add["CAP_SYS_ADMIN"] {
			problems = append(problems, "SYS_ADMIN granted")
		}
		if len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
			problems = append(problems, fmt.Sprintf("drops %v, want [ALL]", sc.Capabilities.Drop))
		}
		if sc.Privileged != nil && *sc.Privileged {
			problems = append(problems, "privileged")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			problems = append(problems, "root filesystem is writable")
		}
		if sc.RunAsUser == nil || *sc.RunAsUser != 0 {
			problems = append(problems, "runAsUser is not 0")
		}
	}
	c.expect(name("spanprobe_privileges"), problems)
	c.expect(name("spanprobe_seccomp_profile_shipped"), checkSeccompProfile(root, sc))

	// Readiness: the probe tests for the file spanprobe.conf tells spanprobe
	// to create, in a writable mount.
	problems = nil
	conf, err := spanprobeConf(filepath.Join(root, "deploy/spanprobe.conf"))
	if err != nil {
		problems = append(problems, err.Error())
	}
	readyFile := ""
	if len(conf["ready-file"]) == 1 {
		readyFile = conf["ready-file"][0]
	} else {
		problems = append(problems, "spanprobe.conf has no single ready-file")
	}
	rp := ctr.ReadinessProbe
	if rp == nil || rp.Exec == nil {
		problems = append(problems, "no exec readiness probe")
	} else if readyFile != "" && !hasString(rp.Exec.Command, readyFile) {
		problems = append(problems, fmt.Sprintf("readiness probe %v does not test %s", rp.Exec.Command, readyFile))
	}
	if readyFile != "" {
		writable := false
		for _, m := range ctr.VolumeMounts {
			if !m.ReadOnly && strings.HasPrefix(readyFile, strings.TrimSuffix(m.MountPath, "/")+"/") {
				for _, v := range spec.Volumes {
					if v.Name == m.Name && v.EmptyDir != nil {
						writable = true
					}
				}
			}
		}
		if !writable {
			problems = append(problems, readyFile+" is not on a writable emptyDir mount")
		}
	}
	c.expect(name("spanprobe_readiness"), problems)

	// Shutdown: the last export fits in the grace period.
	problems = nil
	grace := int64(30)
	if spec.TerminationGracePeriodSeconds != nil {
		grace = *spec.TerminationGracePeriodSeconds
	}
	if grace < 35 {
		problems = append(problems, fmt.Sprintf("terminationGracePeriodSeconds %d < 35", grace))
	}
	if e, _, ok := envValue(ctr, "OTEL_BSP_EXPORT_TIMEOUT"); !ok {
		problems = append(problems, "no OTEL_BSP_EXPORT_TIMEOUT")
	} else {
		var ms int64
		if _, err := fmt.Sscanf(e.Value, "%d", &ms); err != nil || ms/1000 >= grace {
			problems = append(problems, fmt.Sprintf("OTEL_BSP_EXPORT_TIMEOUT %q ms does not fit in %d s", e.Value, grace))
		}
	}
	c.expect(name("spanprobe_shutdown_budget"), problems)

	problems = nil
	if e, _, ok := envValue(ctr, "OTEL_EXPORTER_OTLP_ENDPOINT"); !ok || !strings.HasSuffix(e.Value, "://"+collectorEndpoint) {
		problems = append(problems, fmt.Sprintf("OTEL_EXPORTER_OTLP_ENDPOINT %q, want http://%s", e.Value, collectorEndpoint))
	}
	if e, _, _ := envValue(ctr, "OTEL_EXPORTER_OTLP_PROTOCOL"); e.Value != "grpc" {
		problems = append(problems, fmt.Sprintf("OTEL_EXPORTER_OTLP_PROTOCOL %q, want grpc", e.Value))
	}
	node, nodeAt, ok := envValue(ctr, "K8S_NODE_NAME")
	if !ok || node.ValueFrom == nil || node.ValueFrom.FieldRef == nil || node.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
		problems = append(problems, "K8S_NODE_NAME is not spec.nodeName from the downward API")
	}
	attrs, attrsAt, ok := envValue(ctr, "OTEL_RESOURCE_ATTRIBUTES")
	if !ok || !strings.Contains(attrs.Value, "k8s.node.name=$(K8S_NODE_NAME)") {
		problems = append(problems, "OTEL_RESOURCE_ATTRIBUTES lacks k8s.node.name=$(K8S_NODE_NAME)")
	} else if attrsAt < nodeAt {
		problems = append(problems, "OTEL_RESOURCE_ATTRIBUTES comes before K8S_NODE_NAME, so $(K8S_NODE_NAME) is not expanded")
	}
	// The collector Service the endpoint names exists.
	if objs.services[key(otelNamespace, "otel-collector")] == nil {
		problems = append(problems, "the endpoint's Service otel-collector is not rendered")
	}
	c.expect(name("spanprobe_export_env"), problems)

	problems = nil
	if len(ctr.Args) != 2 || ctr.Args[0] != "--config" || ctr.Args[1] != "/etc/spanprobe/spanprobe.conf" {
		problems = append(problems, fmt.Sprintf("args %v, want [--config /etc/spanprobe/spanprobe.conf]", ctr.Args))
	}
	problems = append(problems, checkConfigEqualsFile(objs, otelNamespace, spec, ctr, "/etc/spanprobe",
		filepath.Join(root, "deploy/spanprobe.conf"))...)
	c.expect(name("spanprobe_config_is_file"), problems)

	problems = nil
	mounts := map[string]bool{}
	for _, m := range ctr.VolumeMounts {
		for _, v := range spec.Volumes {
			if v.Name == m.Name && v.HostPath != nil && v.HostPath.Path == m.MountPath {
				mounts[m.MountPath] = m.ReadOnly
			}
		}
	}
	for _, want := range []struct {
		path     string
		readOnly bool
	}{{"/sys/kernel/btf", true}, {"/sys/fs/bpf", false}, {"/sys/kernel/tracing", true}, {"/sys/kernel/debug", true}} {
		ro, ok := mounts[want.path]
		if !ok {
			problems = append(problems, "no hostPath mount "+want.path)
		} else if want.readOnly && !ro {
			problems = append(problems, want.path+" is not read-only")
		}
	}
	if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Limits.Memory().IsZero() {
		problems = append(problems, "no CPU request or memory limit")
	}
	c.expect(name("spanprobe_mounts_resources"), problems)

	// RBAC: the DaemonSet's ServiceAccount may get, list and watch pods.
	problems = nil
	sa := spec.ServiceAccountName
	if sa == "" || objs.accounts[key(otelNamespace, sa)] == nil {
		problems = append(problems, fmt.Sprintf("ServiceAccount %q is not rendered", sa))
	}
	bound := false
	for _, b := range objs.roleBindings {
		subject := false
		for _, s := range b.Subjects {
			if s.Kind == "ServiceAccount" && s.Name == sa && s.Namespace == otelNamespace {
				subject = true
			}
		}
		role := objs.roles[b.RoleRef.Name]
		if !subject || b.RoleRef.Kind != "ClusterRole" || role == nil {
			continue
		}
		for _, r := range role.Rules {
			if hasString(r.APIGroups, "") && hasString(r.Resources, "pods") &&
				hasString(r.Verbs, "get") && hasString(r.Verbs, "list") && hasString(r.Verbs, "watch") {
				bound = true
			}
		}
	}
	if !bound {
		problems = append(problems, "no ClusterRoleBinding gives "+sa+" get/list/watch on pods")
	}
	c.expect(name("spanprobe_rbac"), problems)
}

func checkProduction(c *checker, root string, objs *objects, name func(string) string) {
	var problems []string
	collector := objs.deployments[key(otelNamespace, "otel-collector")]
	if collector == nil || collector.Spec.Replicas == nil || *collector.Spec.Replicas < 3 {
		problems = append(problems, "otel-collector has fewer than 3 replicas")
	}
	hpa := objs.hpas[key(otelNamespace, "otel-collector")]
	if hpa == nil || hpa.Spec.ScaleTargetRef.Kind != "Deployment" || hpa.Spec.ScaleTargetRef.Name != "otel-collector" {
		problems = append(problems, "no HorizontalPodAutoscaler for Deployment otel-collector")
	} else if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 3 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
		problems = append(problems, "autoscaler range below 3 replicas")
	}
	headless := objs.services[key(otelNamespace, "otel-collector-headless")]
	if headless == nil || headless.Spec.ClusterIP != corev1.ClusterIPNone {
		problems = append(problems, "no headless Service otel-collector-headless")
	}
	c.expect(name("collector_gateway"), problems)

	problems = nil
	jaeger := objs.deployments[key(otelNamespace, "jaeger")]
	if jaeger == nil {
		c.fail(name("jaeger_persistent_store"), "no Deployment jaeger")
		return
	}
	ctr := findContainer(&jaeger.Spec.Template.Spec, "jaeger")
	if ctr == nil || !hasString(ctr.Args, "--config=/etc/jaeger/jaeger-config.yaml") {
		problems = append(problems, "jaeger does not run with /etc/jaeger/jaeger-config.yaml")
	} else {
		problems = append(problems, checkConfigEqualsFile(objs, otelNamespace, &jaeger.Spec.Template.Spec, ctr,
			"/etc/jaeger", filepath.Join(root, "deploy/production/jaeger-config.yaml"))...)
		data, err := os.ReadFile(filepath.Join(root, "deploy/production/jaeger-config.yaml"))
		if err != nil || bytes.Contains(data, []byte("memory:")) ||
			!(bytes.Contains(data, []byte("opensearch:")) || bytes.Contains(data, []byte("elasticsearch:"))) {
			problems = append(problems, "jaeger-config.yaml does not store in OpenSearch/Elasticsearch only")
		}
		if e, _, ok := envValue(ctr, "OPENSEARCH_URL"); !ok || !strings.HasPrefix(e.Value, "http") {
			problems = append(problems, "no OPENSEARCH_URL")
		}
	}
	if jaeger.Spec.Replicas == nil || *jaeger.Spec.Replicas < 2 {
		problems = append(problems, "jaeger is not scaled out")
	}
	c.expect(name("jaeger_persistent_store"), problems)
}

// printEnv prints one container's environment in a rendered overlay.
// renderedObjects renders an overlay and decodes every object strictly.
func renderedObjects(root, overlay string) (*objects, error) {
	loadAnywhere := false
	for _, o := range overlays {
		if o.dir == overlay {
			loadAnywhere = o.loadAnywhere
		}
	}
	rendered, err := render(root, overlay, loadAnywhere)
	if err != nil {
		return nil, err
	}
	docs, err := splitDocs(rendered)
	if err != nil {
		return nil, err
	}
	objs := newObjects()
	for _, doc := range docs {
		if _, err := decodeStrict(doc, objs); err != nil {
			return nil, err
		}
	}
	return objs, nil
}

func printEnv(root, overlay, deployment, container string) error {
	objs, err := renderedObjects(root, overlay)
	if err != nil {
		return err
	}
	d := objs.deployments[key(otelNamespace, deployment)]
	if d == nil {
		return fmt.Errorf("no Deployment %s in %s", deployment, otelNamespace)
	}
	ctr := findContainer(&d.Spec.Template.Spec, container)
	if ctr == nil {
		return fmt.Errorf("no container %s in %s", container, deployment)
	}
	for _, e := range ctr.Env {
		if e.ValueFrom != nil {
			fmt.Printf("%s=placeholder\n", e.Name)
		} else {
			fmt.Printf("%s=%s\n", e.Name, e.Value)
		}
	}
	return nil
}

// printDaemonSet prints how the spanprobe DaemonSet runs its container, for a
// test that runs spanprobe the same way: "ARG a" per argument, "ENV k=v" per
// variable (downward-API values as "placeholder"), "MOUNT path configmap"
// per ConfigMap volume mount.
func printDaemonSet(root, name, container string) error {
	objs, err := renderedObjects(root, "deploy")
	if err != nil {
		return err
	}
	ds := objs.daemonSets[key(otelNamespace, name)]
	if ds == nil {
		return fmt.Errorf("no DaemonSet %s in %s", name, otelNamespace)
	}
	ctr := findContainer(&ds.Spec.Template.Spec, container)
	if ctr == nil {
		return fmt.Errorf("no container %s in %s", container, name)
	}
	for _, a := range ctr.Command {
		fmt.Printf("CMD %s\n", a)
	}
	for _, a := range ctr.Args {
		fmt.Printf("ARG %s\n", a)
	}
	for _, e := range ctr.Env {
		if e.ValueFrom != nil {
			fmt.Printf("ENV %s=placeholder\n", e.Name)
		} else {
			fmt.Printf("ENV %s=%s\n", e.Name, e.Value)
		}
	}
	for _, m := range ctr.VolumeMounts {
		for _, v := range ds.Spec.Template.Spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil {
				fmt.Printf("MOUNT %s %s\n", m.MountPath, v.ConfigMap.Name)
			}
		}
	}
	return nil
}

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 3 && args[0] == "check":
		c := &checker{prefix: args[2]}
		checkFiles(c, args[1])
		for _, o := range overlays {
			checkRender(c, args[1], o.dir, o.loadAnywhere)
		}
		if c.failed {
			os.Exit(1)
		}
	case len(args) == 5 && args[0] == "env":
		if err := printEnv(args[1], args[2], args[3], args[4]); err != nil {
			fmt.Fprintln(os.Stderr, "deploy-check:", err)
			os.Exit(1)
		}
	case len(args) == 4 && args[0] == "daemonset":
		if err := printDaemonSet(args[1], args[2], args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "deploy-check:", err)
			os.Exit(1)
		}
	case len(args) >= 4 && args[0] == "pod":
		if err := printPod(args[1], args[2], args[3], args[4:]); err != nil {
			fmt.Fprintln(os.Stderr, "deploy-check:", err)
			os.Exit(1)
		}
	case len(args) >= 4 && args[0] == "run":
		if err := printRun(args[1], args[2], args[3], args[4:]); err != nil {
			fmt.Fprintln(os.Stderr, "deploy-check:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: deploy-check check ROOT PREFIX | deploy-check env ROOT OVERLAY DEPLOYMENT CONTAINER | deploy-check daemonset ROOT NAME CONTAINER | deploy-check pod ROOT OVERLAY NAMESPACE/NAME [--name POD] [--node NODE] [--drop-ports] [--host-alias HOST=IP]... | deploy-check run ROOT OVERLAY NAMESPACE/NAME [pod's options] [--workdir DIR] [--seccomp-root DIR]")
		os.Exit(2)
	}
}
