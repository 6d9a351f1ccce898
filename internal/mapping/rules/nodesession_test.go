package rules_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// The Fargate node username, system:node:{{SessionName}}, makes the session
// name the node name. On the pod execution role (an exact role ARN) EKS
// picks the session; anywhere else the caller could name itself any node,
// or (users, groups: no session) render "system:node:". Build refuses it
// there, with one line naming the entry, and the refused entry denies.
func TestNodeSessionUsernameOnlyOnExactRole(t *testing.T) {
	const node = "system:node:{{SessionName}}"
	const fargate = "arn:aws:iam::111122223333:role/fargate-pods"
	ok, probs := rules.Build("T", []mapping.Entry{
		at(role(fargate, node, "system:nodes", "system:bootstrappers", "system:node-proxier"), mapping.SectionRoles, 0),
	}, rules.Options{Logger: quietLogger(t)})
	if len(probs) != 0 {
		t.Fatalf("exact role ARN refused: %v", joined(probs))
	}
	res, err := ok.Map(context.Background(), mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/fargate-pods/fargate-ip-10-0-0-1.ec2.internal"})
	if err != nil || res.Username != "system:node:fargate-ip-10-0-0-1.ec2.internal" {
		t.Errorf("Fargate pod: Map = %+v, %v", res, err)
	}

	for name, tc := range map[string]struct {
		e     mapping.Entry
		names string
		form  string
		probe mapping.Identity
	}{
		"role pattern": {at(role("arn:aws:iam::111122223333:role/fargate-*", node, "system:nodes"), mapping.SectionRoles, 3),
			"arn:aws:iam::111122223333:role/fargate-*", "role pattern",
			mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/fargate-x/ip-10-0-0-9.ec2.internal"}},
		"sso entry": {at(mapping.Entry{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Nodes", AccountID: "111122223333"}, Username: node}, mapping.SectionRoles, 3),
			"sso Nodes in 111122223333", "sso entry",
			mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Nodes_0123456789abcdef/ip-10-0-0-9.ec2.internal"}},
		"user": {at(user("arn:aws:iam::111122223333:user/alice", node), mapping.SectionUsers, 3),
			"arn:aws:iam::111122223333:user/alice", "user entry",
			mapping.Identity{ARN: "arn:aws:iam::111122223333:user/alice"}},
		"user pattern": {at(user("arn:aws:iam::111122223333:user/ops/*", node), mapping.SectionUsers, 3),
			"arn:aws:iam::111122223333:user/ops/*", "user pattern",
			mapping.Identity{ARN: "arn:aws:iam::111122223333:user/ops/bob"}},
		"group": {at(group("arn:aws:iam::111122223333:group/nodes", node), mapping.SectionGroups, 3),
			"arn:aws:iam::111122223333:group/nodes", "group entry",
			mapping.Identity{ARN: "arn:aws:iam::111122223333:user/carol"}},
	} {
		t.Run(name, func(t *testing.T) {
			tb, probs := rules.Build("T", []mapping.Entry{tc.e, at(account("111122223333"), mapping.SectionAccounts, 0)},
				rules.Options{SSORoleMatch: true, Groups: memberOf{"arn:aws:iam::111122223333:group/nodes"}, Logger: quietLogger(t)})
			if len(probs) != 1 {
				t.Fatalf("problems = %v, want exactly one", probs)
			}
			msg := probs[0].Error()
			want := tc.e.Origin.Section + "[3] (" + tc.names + "): username \"" + node + "\" is only allowed on an exact role ARN"
			if !strings.HasPrefix(msg, want) || !strings.HasSuffix(msg, "not on a "+tc.form) || strings.Contains(msg, "\n") {
				t.Errorf("problem = %q, want one line starting %q and ending %q", msg, want, "not on a "+tc.form)
			}
			if probs[0].Origin != tc.e.Origin {
				t.Errorf("problem origin = %+v, want the entry's %+v", probs[0].Origin, tc.e.Origin)
			}
			// The refused entry is the last word on what it names: denied,
			// not left to mapAccounts.
			if res, err := tb.Map(context.Background(), tc.probe); err == nil || errors.Is(err, mapping.ErrNotMapped) {
				t.Errorf("%s: Map = %+v, %v; want a deny", tc.probe.ARN, res, err)
			}
			// Check, which parsers call, says the same and names the field.
			if field, err := rules.Check(tc.e, rules.Options{}); field != "username" || err == nil {
				t.Errorf("Check = %q, %v; want the username refused", field, err)
			}
		})
	}
}

// memberOf is an IAM that puts every user in the given groups.
type memberOf []string

func (g memberOf) GroupsForUser(context.Context, string) ([]string, error) { return g, nil }

// An allowlisted variant of the node username that the session name fills
// in is held to the same rule: only an exact role ARN.
func TestNodeSessionVariantsOnlyOnExactRole(t *testing.T) {
	allow := []string{"system:node:{{SessionNameRaw}}", "system:node:{{SessionName}}.fargate"}
	for _, u := range allow {
		_, probs := rules.Build("T", []mapping.Entry{
			at(role("arn:aws:iam::111122223333:role/fargate-*", u), mapping.SectionRoles, 0),
		}, rules.Options{Logger: quietLogger(t), AllowReserved: allow})
		if len(probs) != 1 || !strings.Contains(probs[0].Error(), "only allowed on an exact role ARN") {
			t.Errorf("%s on a role pattern: problems %v, want it refused", u, joined(probs))
		}
		_, probs = rules.Build("T", []mapping.Entry{
			at(role("arn:aws:iam::111122223333:role/fargate-pods", u), mapping.SectionRoles, 0),
		}, rules.Options{Logger: quietLogger(t), AllowReserved: allow})
		if len(probs) != 0 {
			t.Errorf("%s on an exact role: %v", u, joined(probs))
		}
	}
}
