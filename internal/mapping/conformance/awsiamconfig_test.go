package conformance_test

// The shared suite through an EKS Anywhere AWSIamConfig document: every
// mapRoles/mapUsers entry of a case is written into a document, read back with awsiamconfig.Parse and served as the MountedFile
// backend, the way "iamgate server --awsiamconfig FILE" composes them. The
// document has no mapGroups or mapAccounts; like the server, the factory
// takes those from the config file, i.e. hands them to the backend as they
// are.

import (
	"log/slog"
	"strings"
	"testing"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/config/awsiamconfig"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/conformance"
	"github.com/iamgate/iamgate/internal/mapping/file"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

func TestAWSIamConfigConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, entries []mapping.Entry, o rules.Options) (mapping.Mapper, error) {
		t.Helper()
		doc, problems, err := awsiamconfig.Parse(awsIamConfigDoc(t, entries), "")
		if err != nil {
			return nil, err
		}
		if mapping.HasFatal(problems) {
			return nil, problemsError(problems)
		}
		fromConfig := doc.Mappings
		for _, e := range entries {
			if e.Kind == mapping.KindGroup || e.Kind == mapping.KindAccount {
				fromConfig = append(fromConfig, e)
			}
		}
		o.Logger = slog.New(slog.DiscardHandler)
		b, err := file.New("MountedFile", fromConfig, o)
		if err != nil {
			return nil, err
		}
		return b, nil
	}, conformance.Capabilities{})
}

// awsIamConfigDoc writes the roles and users of entries into an
// AWSIamConfig document, in the aws-auth entry shape (keys match ignoring
// case, so rolearn reads as EKS Anywhere's roleARN).
func awsIamConfigDoc(t *testing.T, entries []mapping.Entry) []byte {
	t.Helper()
	partition := ""
	checkPartition := func(a string) {
		if p, ok := arnPartition(a); ok {
			if partition != "" && p != partition {
				t.Skipf("an AWSIamConfig document holds one partition (spec.partition); this case mixes %s and %s", partition, p)
			}
			partition = p
		}
	}
	roles, users, _, _ := conformance.AWSAuth(entries)
	for _, r := range roles {
		checkPartition(r.RoleARN)
	}
	for _, u := range users {
		checkPartition(u.UserARN)
	}
	spec := map[string]any{"awsRegion": "us-west-2", "backendMode": []string{"EKSConfigMap"}}
	if partition != "" {
		spec["partition"] = partition
	}
	if roles != nil {
		spec["mapRoles"] = roles
	}
	if users != nil {
		spec["mapUsers"] = users
	}
	out, err := yaml.Marshal(map[string]any{
		"apiVersion": awsiamconfig.APIVersion, "kind": awsiamconfig.Kind,
		"metadata": map[string]any{"name": "aws-iam-auth-config", "namespace": "default"},
		"spec":     spec,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// arnPartition returns the partition of a well-formed ARN's second field.
func arnPartition(a string) (string, bool) {
	parts := strings.SplitN(a, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" || strings.Contains(parts[1], "*") {
		return "", false
	}
	return parts[1], true
}

type problemsError []mapping.Problem

func (p problemsError) Error() string {
	var b strings.Builder
	for i, x := range p {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x.Error())
	}
	return b.String()
}
