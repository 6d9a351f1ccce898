package configmap

import (
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
	"github.com/iamgate/iamgate/internal/mapping/live"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Data keys of the aws-auth ConfigMap. EKS, eksctl and EKS Anywhere write
// mapRoles, mapUsers and mapAccounts; mapGroups is iamgate's (IAM group
// membership, ignored by aws-iam-authenticator). Each holds a YAML (or JSON)
// list as a string.
const (
	KeyMapRoles    = mapping.SectionRoles
	KeyMapUsers    = mapping.SectionUsers
	KeyMapGroups   = mapping.SectionGroups
	KeyMapAccounts = mapping.SectionAccounts
)

// loaded is the outcome of reading one ConfigMap's data.
type loaded struct {
	live.Outcome
	// ignored are data keys iamgate does not read, sorted.
	ignored []string
}

// read turns ConfigMap data into entries, each placed at its data key and
// line in that key's value, object obj ("kube-system/aws-auth").
func read(obj string, data map[string]string) ([]mapping.Entry, []mapping.Problem, []string) {
	return awsauth.ParseData(data, awsauth.Source{Backend: Name, Object: obj})
}

// load parses ConfigMap data into a table named name without putting it in
// effect (live.Holder.Build decides what refuses the whole data).
func load(name string, data map[string]string, opts rules.Options) loaded {
	h, _ := live.New(name, opts, nil, nil, ErrNotSynced) // unregistered metrics: cannot fail
	es, ps, ignored := read(DefaultNamespace+"/"+DefaultName, data)
	return loaded{Outcome: h.Build(es, ps), ignored: ignored}
}
