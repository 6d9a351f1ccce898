package kube_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

// editedAWSAuth has everything an edit must leave alone: comments, blank
// lines, the node role, mapAccounts, a key iamgate does not read, labels
// and annotations.
const editedAWSAuth = `apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
  labels:
    app.kubernetes.io/managed-by: hand
  annotations:
    team: platform
data:
  mapRoles: |
    # nodes (do not touch)
    - rolearn: arn:aws:iam::111122223333:role/eks-node
      username: system:node:{{EC2PrivateDNSName}}
      groups:
        - system:bootstrappers
        - system:nodes

    # break-glass
    - rolearn: arn:aws:iam::111122223333:role/Admin
      username: admin:{{SessionName}}
      groups:
        - system:masters
  mapAccounts: |
    - "444455556666"   # partner account
  notes: "kept as is"
`

type awsAuthObject struct {
	Metadata struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Data map[string]string `json:"data"`
}

func getAWSAuth(t *testing.T, kubeconfig string) awsAuthObject {
	t.Helper()
	out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "get", "cm", "aws-auth", "-n", "kube-system", "-o", "json").Output()
	if err != nil {
		t.Fatalf("kubectl get cm aws-auth: %v", err)
	}
	var o awsAuthObject
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

var conflictsRetried = regexp.MustCompile(`\((\d+) attempts?, (\d+) conflicts? retried\)`)

// TestAPIServerConcurrentAdds runs 20 "iamgate add role" processes at once
// against one aws-auth: every entry lands (the losers of each write re-read
// and re-apply), and nothing else in the ConfigMap changes by a byte.
func TestAPIServerConcurrentAdds(t *testing.T) {
	env := kube.Start(t, kube.Options{})
	create := exec.Command("kubectl", "--kubeconfig", env.Kubeconfig, "create", "-f", "-")
	create.Stdin = strings.NewReader(editedAWSAuth)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("kubectl create: %v\n%s", err, out)
	}
	before := getAWSAuth(t, env.Kubeconfig)

	const writers = 20
	var wg sync.WaitGroup
	errs := make([]string, writers)
	codes := make([]error, writers)
	start := time.Now()
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("team-%02d", i)
			cmd := exec.Command(filepath.Join(binDir, "iamgate"), "add", "role",
				"--rolearn", "arn:aws:iam::111122223333:role/"+name, "--username", name+":{{SessionName}}",
				"--groups", name, "--prompt=false", "--kubeconfig", env.Kubeconfig)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			codes[i] = cmd.Run()
			errs[i] = stderr.String()
		}()
	}
	wg.Wait()
	wall := time.Since(start)

	conflicts, maxAttempts := 0, 0
	for i := range writers {
		if codes[i] != nil {
			t.Errorf("writer %d: %v\n%s", i, codes[i], errs[i])
			continue
		}
		m := conflictsRetried.FindStringSubmatch(errs[i])
		if m == nil {
			t.Errorf("writer %d: no summary line: %q", i, errs[i])
			continue
		}
		a, _ := strconv.Atoi(m[1])
		c, _ := strconv.Atoi(m[2])
		conflicts += c
		maxAttempts = max(maxAttempts, a)
	}
	t.Logf("%d concurrent iamgate add role: wall %v, %d conflicts retried in all, at most %d attempts for one writer",
		writers, wall.Round(time.Millisecond), conflicts, maxAttempts)

	after := getAWSAuth(t, env.Kubeconfig)
	for _, k := range []string{"mapAccounts", "notes"} {
		if after.Data[k] != before.Data[k] {
			t.Errorf("data.%s changed: %q, was %q", k, after.Data[k], before.Data[k])
		}
	}
	if fmt.Sprint(after.Metadata.Labels) != fmt.Sprint(before.Metadata.Labels) || fmt.Sprint(after.Metadata.Annotations) != fmt.Sprint(before.Metadata.Annotations) {
		t.Errorf("metadata changed: %v %v", after.Metadata.Labels, after.Metadata.Annotations)
	}
	roles := after.Data["mapRoles"]
	if !strings.HasPrefix(roles, before.Data["mapRoles"]) {
		t.Fatalf("the entries that were there changed:\n%s", roles)
	}
	// The rest is exactly 20 entries, one per writer, in the order they won.
	var added []string
	for _, e := range strings.SplitAfter(strings.TrimPrefix(roles, before.Data["mapRoles"]), "\n- ") {
		added = append(added, strings.TrimPrefix(strings.TrimSuffix(e, "- "), "- "))
	}
	sort.Strings(added)
	if len(added) != writers {
		t.Fatalf("%d entries added, want %d:\n%s", len(added), writers, roles)
	}
	for i, e := range added {
		name := fmt.Sprintf("team-%02d", i)
		want := "rolearn: arn:aws:iam::111122223333:role/" + name + "\n  username: " + name + ":{{SessionName}}\n  groups:\n    - " + name + "\n"
		if e != want {
			t.Errorf("entry %d = %q, want %q", i, e, want)
		}
	}

	// A duplicate is refused and changes nothing.
	dup := exec.Command(filepath.Join(binDir, "iamgate"), "add", "role", "--rolearn", "arn:aws:iam::111122223333:role/team-07",
		"--username", "x", "--prompt=false", "--kubeconfig", env.Kubeconfig)
	if out, err := dup.CombinedOutput(); err == nil || !strings.Contains(string(out), "mapRoles already maps arn:aws:iam::111122223333:role/team-07") {
		t.Errorf("duplicate add: %v\n%s", err, out)
	}
	if got := getAWSAuth(t, env.Kubeconfig).Data["mapRoles"]; got != roles {
		t.Error("a refused duplicate changed mapRoles")
	}
}
