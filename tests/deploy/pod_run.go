package main

// deploy-check run: a workload's pod template (one container) as the
// arguments of `podman run`, one a line, doing what a kubelet does with each
// field. For pods `podman kube play` 4.3 plays wrongly: it ignores hostPID
// (the container gets a PID namespace of its own, so spanprobe sees no other
// pod's process), securityContext.seccompProfile and
// terminationGracePeriodSeconds. Same options as `pod` (pod.go), plus
//   --workdir DIR        where ConfigMap volumes are written, as the kubelet
//                        writes them: DIR/NAME/KEY, mounted read-only
//   --seccomp-root DIR   the kubelet's directory of Localhost profiles
// The caller adds --network/--ip and the readiness probe (pod.go's YAML).

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

var kubeVarRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expandEnv: $(VAR) of a variable defined earlier is replaced by its value,
// as the kubelet does; other text is kept.
func expandEnv(value string, env map[string]string) string {
	return kubeVarRef.ReplaceAllStringFunc(value, func(ref string) string {
		if v, ok := env[ref[2:len(ref)-1]]; ok {
			return v
		}
		return ref
	})
}

type runArgs []string

func (r *runArgs) add(args ...string) { *r = append(*r, args...) }

func runSecurity(r *runArgs, pod *corev1.Pod, ctr *corev1.Container, seccompRoot string) error {
	psc := pod.Spec.SecurityContext
	sc := ctr.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	user := sc.RunAsUser
	if user == nil && psc != nil {
		user = psc.RunAsUser
	}
	if user != nil {
		r.add("--user", fmt.Sprint(*user))
	}
	if sc.Privileged != nil && *sc.Privileged {
		r.add("--privileged")
	}
	if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		r.add("--read-only")
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		r.add("--security-opt", "no-new-privileges")
	}
	if sc.Capabilities != nil {
		for _, c := range sc.Capabilities.Drop {
			r.add("--cap-drop", string(c))
		}
		for _, c := range sc.Capabilities.Add {
			r.add("--cap-add", string(c))
		}
	}
	profile := sc.SeccompProfile
	if profile == nil && psc != nil {
		profile = psc.SeccompProfile
	}
	if profile != nil {
		switch profile.Type {
		case corev1.SeccompProfileTypeUnconfined:
			r.add("--security-opt", "seccomp=unconfined")
		case corev1.SeccompProfileTypeLocalhost:
			if seccompRoot == "" || profile.LocalhostProfile == nil {
				return fmt.Errorf("container %s wants a Localhost seccomp profile: give --seccomp-root", ctr.Name)
			}
			path := filepath.Join(seccompRoot, *profile.LocalhostProfile)
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("seccomp profile: %v", err)
			}
			r.add("--security-opt", "seccomp="+path)
		}
		// RuntimeDefault: podman's default profile, nothing to add
	}
	return nil
}

func runVolumes(r *runArgs, objs *objects, pod *corev1.Pod, ctr *corev1.Container, workdir string) error {
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range ctr.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			return fmt.Errorf("mount %s names no volume", m.Name)
		}
		ro := ""
		if m.ReadOnly {
			ro = ":ro"
		}
		switch {
		case v.ConfigMap != nil:
			cm := objs.configMaps[key(pod.Namespace, v.ConfigMap.Name)]
			if cm == nil {
				return fmt.Errorf("ConfigMap %s is not in the rendered manifests", v.ConfigMap.Name)
			}
			if workdir == "" {
				return fmt.Errorf("ConfigMap volume %s: give --workdir", v.Name)
			}
			dir := filepath.Join(workdir, v.Name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			for k, data := range cm.Data {
				if err := os.WriteFile(filepath.Join(dir, k), []byte(data), 0o644); err != nil {
					return err
				}
			}
			r.add("-v", dir+":"+m.MountPath+":ro")
		case v.EmptyDir != nil && v.EmptyDir.Medium == corev1.StorageMediumMemory:
			opt := m.MountPath
			if v.EmptyDir.SizeLimit != nil {
				opt += fmt.Sprintf(":size=%d", v.EmptyDir.SizeLimit.Value())
			}
			r.add("--tmpfs", opt)
		case v.EmptyDir != nil:
			r.add("--mount", "type=volume,dst="+m.MountPath)
		case v.HostPath != nil:
			_, err := os.Stat(v.HostPath.Path)
			if err != nil && v.HostPath.Type != nil && *v.HostPath.Type != corev1.HostPathUnset {
				return fmt.Errorf("hostPath %s (type %s): %v", v.HostPath.Path, *v.HostPath.Type, err)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "deploy-check: hostPath %s absent here; not mounted\n", v.HostPath.Path)
				continue
			}
			r.add("-v", v.HostPath.Path+":"+m.MountPath+ro)
		default:
			return fmt.Errorf("volume %s: kind not supported here", v.Name)
		}
	}
	return nil
}

func printRun(root, overlay, ref string, args []string) error {
	var workdir, seccompRoot string
	var rest []string
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "--workdir" && i+1 < len(args):
			workdir = args[i+1]
			i++
		case args[i] == "--seccomp-root" && i+1 < len(args):
			seccompRoot = args[i+1]
			i++
		default:
			rest = append(rest, args[i])
		}
	}
	opts, err := parsePodOptions(rest)
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
	if len(pod.Spec.Containers) != 1 {
		return fmt.Errorf("%s has %d containers; run renders one", ref, len(pod.Spec.Containers))
	}
	ctr := &pod.Spec.Containers[0]
	r := runArgs{"--name", pod.Name + "-" + ctr.Name, "--hostname", pod.Name}
	for k, v := range pod.Labels {
		r.add("--label", k+"="+v)
	}
	if pod.Spec.HostPID {
		r.add("--pid", "host")
	}
	if pod.Spec.HostNetwork {
		r.add("--network", "host")
	}
	for _, a := range pod.Spec.HostAliases {
		for _, h := range a.Hostnames {
			r.add("--add-host", h+":"+a.IP)
		}
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		r.add("--stop-timeout", fmt.Sprint(*g))
	}
	if err := runSecurity(&r, pod, ctr, seccompRoot); err != nil {
		return err
	}
	if err := runVolumes(&r, objs, pod, ctr, workdir); err != nil {
		return err
	}
	env := map[string]string{}
	for _, e := range ctr.Env {
		v := e.Value
		if e.ValueFrom != nil {
			switch {
			case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
				v = pod.Name
			case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
				v = pod.Namespace
			default:
				return fmt.Errorf("env %s: only metadata.name, metadata.namespace and (with --node) spec.nodeName are supplied here", e.Name)
			}
		}
		v = expandEnv(v, env)
		env[e.Name] = v
		r.add("--env", e.Name+"="+v)
	}
	if lim := ctr.Resources.Limits; lim != nil {
		if cpu, ok := lim[corev1.ResourceCPU]; ok {
			r.add("--cpus", fmt.Sprintf("%.3f", float64(cpu.MilliValue())/1000))
		}
		if mem, ok := lim[corev1.ResourceMemory]; ok {
			r.add("--memory", fmt.Sprint(mem.Value()))
		}
	}
	if len(ctr.Command) > 0 {
		r.add("--entrypoint", ctr.Command[0])
	}
	r.add(ctr.Image)
	if len(ctr.Command) > 1 {
		r.add(ctr.Command[1:]...)
	}
	r.add(ctr.Args...)
	for _, a := range r {
		if strings.ContainsRune(a, '\n') {
			return fmt.Errorf("argument %q has a newline", a)
		}
	}
	_, err = fmt.Println(strings.Join(r, "\n"))
	return err
}
